"""The operator dashboard (NiceGUI), mounted on the API's FastAPI app by `citywatch serve`."""
