"""Analytics: one module per incident type, turning detections over time into incidents."""
