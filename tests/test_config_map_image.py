"""`ui.map_image` (issue 20, finding 5): the picture under the camera map, found in the config's
folder, and every mistake an error that names the key and says what is wrong."""

from pathlib import Path

import pytest

from citywatch.config import ConfigError, load_config

CAMERA = "cameras: [{id: cam01, url: rtsp://10.0.0.1/sub}]\n"


def _load(folder: Path, map_image: str) -> object:
    path = folder / "cameras.yaml"
    path.write_text(CAMERA + f"ui:\n  map_image: {map_image}\n", encoding="utf-8")
    return load_config(path)


def test_the_picture_is_found_in_the_configs_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "district.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.chdir("/")  # not where the config is
    config = _load(
        tmp_path,
        "{path: maps/district.png, south_west: {lat: 13.74, lon: 100.49}, "
        "north_east: {lat: 13.77, lon: 100.52}, opacity: 0.8}",
    )
    picture = config.ui.map_image  # type: ignore[attr-defined]
    assert picture.path == tmp_path / "maps" / "district.png"
    assert (picture.south_west.lat, picture.north_east.lon, picture.opacity) == (13.74, 100.52, 0.8)


@pytest.mark.parametrize(
    ("map_image", "expected"),
    [
        (
            "{path: nowhere.png, south_west: {lat: 1, lon: 1}, north_east: {lat: 2, lon: 2}}",
            "key ui.map_image.path: no picture at {folder}/nowhere.png",
        ),
        (
            "{path: plan.pdf, south_west: {lat: 1, lon: 1}, north_east: {lat: 2, lon: 2}}",
            "key ui.map_image.path: Value error, 'plan.pdf' is not a PNG, JPEG or WebP picture",
        ),
        (
            "{path: plan.png, south_west: {lat: 2, lon: 1}, north_east: {lat: 1, lon: 2}}",
            "key ui.map_image: Value error, north_east.lat (1.0) must be north of (larger than) "
            "south_west.lat (2.0)",
        ),
        (
            "{path: plan.png, south_west: {lat: 1, lon: 2}, north_east: {lat: 2, lon: 2}}",
            "key ui.map_image: Value error, north_east.lon (2.0) must be east of",
        ),
        (
            "{path: plan.png, south_west: {lat: 1, lon: 1}, north_east: {lat: 91, lon: 2}}",
            "key ui.map_image.north_east.lat: Input should be less than or equal to 90",
        ),
        ("{path: plan.png}", "key ui.map_image.south_west: Field required"),
    ],
)
def test_a_wrong_map_image_names_the_key_and_the_mistake(
    tmp_path: Path, map_image: str, expected: str
) -> None:
    (tmp_path / "plan.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, map_image)
    assert expected.format(folder=tmp_path) in str(error.value)
