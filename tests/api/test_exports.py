"""Downloads (api/exports.py, api/media.py DownloadHandler): one frame as a file and a
range of frames as a zip, through the JSON API and the web UI, with the owner's, a share
link's and a stranger's credentials."""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path
from urllib.parse import quote

import requests

from api.exports import attachment, file_stem, stamp
from sensr.settings import S3Settings
from sensr.storage import make_s3_client
from tests.support.api import ApiStack, create_camera, seed_frames, sign_up
from tests.support.ui import Visitor, field
from tests.support.ui import create_camera as ui_create_camera
from tests.support.ui import sign_up as ui_sign_up

HOUR_US = 3_600_000_000
BASE_US = 1_795_998_000_000_000  # 2026-11-30T00:20:00Z


def test_names_and_content_disposition() -> None:
    assert stamp(BASE_US + 123_456) == "2026-11-30T00-20-00.123456Z"
    assert file_stem("Front door / garden") == "Front-door-garden"
    assert file_stem("Küche") == "Küche"
    assert file_stem("///") == "camera"
    value = attachment("Küche_2026.jpg")
    assert value == "attachment; filename=\"Kuche_2026.jpg\"; filename*=UTF-8''K%C3%BCche_2026.jpg"


def test_one_frame_downloads_as_a_named_file(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Front door")
    [(frame, jpeg)] = seed_frames(api_stack, camera["username"], [BASE_US + 5])
    path = f"/cameras/{camera['id']}/frames/{quote(frame.frame_id)}/download"
    answer = owner.session.get(api_stack.api(path), timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.content == jpeg
    assert answer.headers["Content-Type"] == "image/jpeg"
    assert answer.headers["Content-Disposition"] == (
        'attachment; filename="Front-door_2026-11-30T00-20-00.000005Z.jpg"; '
        "filename*=UTF-8''Front-door_2026-11-30T00-20-00.000005Z.jpg")
    # The image itself stays an image to show.
    assert "Content-Disposition" not in owner.session.get(api_stack.api(path[:-len("download")] + "image"),
                                                          timeout=30).headers
    stranger = sign_up(api_stack)
    assert stranger.session.get(api_stack.api(path), timeout=30).status_code == 404
    # curl saves it under the server's name (-J), as a browser does.
    share = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={}, timeout=30).json()
    folder = Path(subprocess.run(["mktemp", "-d"], capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run(["curl", "-sSfOJ", f"{api_stack.api(path)}?share={share['token']}"], cwd=folder, check=True)
    assert (folder / "Front-door_2026-11-30T00-20-00.000005Z.jpg").read_bytes() == jpeg


def test_a_range_zips_its_frames_by_timestamp(api_stack: ApiStack) -> None:
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Yard")
    times = [BASE_US, BASE_US + 1, BASE_US + 1, BASE_US + HOUR_US - 1, BASE_US + HOUR_US]
    seeded = seed_frames(api_stack, camera["username"], times)
    url = api_stack.api(f"/cameras/{camera['id']}/frames.zip")
    answer = owner.session.get(url, params={"since": "2026-11-30T00:20:00Z", "until": str(
        (BASE_US + HOUR_US) / 1e6)}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"] == "application/zip"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    assert 'filename="Yard_2026-11-30T00-20-00.000000Z_2026-11-30T01-20-00.000000Z.zip"' in \
        answer.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert archive.testzip() is None
    in_range = sorted(seeded[:4], key=lambda pair: (pair[0].timestamp_us, pair[0].frame_id))
    same = sorted(pair[0].frame_id for pair in seeded[1:3])
    assert archive.namelist() == ["2026-11-30T00-20-00.000000Z.jpg", "2026-11-30T00-20-00.000001Z.jpg",
                                  f"2026-11-30T00-20-00.000001Z_{same[1]}.jpg", "2026-11-30T01-19-59.999999Z.jpg"]
    assert [archive.read(name) for name in archive.namelist()] == [jpeg for _, jpeg in in_range]
    assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())

    empty = owner.session.get(url, params={"since": "2020-01-01", "until": "2020-01-02"}, timeout=30)
    assert empty.status_code == 200 and zipfile.ZipFile(io.BytesIO(empty.content)).namelist() == []
    for params in ({"since": "2026-11-30"}, {"since": "2026-11-30", "until": "2026-11-29"},
                   {"since": "2020-01-01", "until": "2022-01-01"}, {"since": "x", "until": "2026-11-30"}):
        assert owner.session.get(url, params=params, timeout=30).status_code == 400, params
    stranger = sign_up(api_stack)
    assert stranger.session.get(url, params={"since": "2026-11-30", "until": "2026-12-01"},
                                timeout=30).status_code == 404
    share = owner.session.post(api_stack.api(f"/cameras/{camera['id']}/shares"), json={}, timeout=30).json()
    shared = requests.get(url, params={"since": "2026-11-30", "until": "2026-12-01", "share": share["token"]},
                          timeout=30)
    assert shared.status_code == 200 and len(zipfile.ZipFile(io.BytesIO(shared.content)).namelist()) == 5


def test_the_ui_links_hour_day_and_frame_downloads(api_stack: ApiStack) -> None:
    visitor, _ = ui_sign_up(api_stack)
    camera_id = ui_create_camera(visitor, "Garden")
    username = field(visitor.get(f"/cameras/{camera_id}/upload").text, "username")
    seeded = seed_frames(api_stack, username, [BASE_US + 10, BASE_US + 20])
    day = visitor.get(f"/cameras/{camera_id}", params={"day": "2026-11-30"}).text
    assert "Download this day (zip, 2 frames)" in day
    hour = visitor.get(f"/cameras/{camera_id}/hours/2026-11-30T00").text
    assert 'id="download-hour"' in hour
    zipped = visitor.get(f"/cameras/{camera_id}/frames.zip",
                         params={"since": "2026-11-30T00:00:00Z", "until": "2026-11-30T01:00:00Z"})
    assert zipped.status_code == 200
    assert [zipfile.ZipFile(io.BytesIO(zipped.content)).read(n) for n in
            zipfile.ZipFile(io.BytesIO(zipped.content)).namelist()] == [jpeg for _, jpeg in seeded]
    frame = seeded[0][0]
    viewer = visitor.get(f"/cameras/{camera_id}/frames/{quote(frame.frame_id)}").text
    assert 'id="download-frame"' in viewer
    saved = visitor.get(f"/cameras/{camera_id}/frames/{quote(frame.frame_id)}/download")
    assert saved.status_code == 200 and saved.content == seeded[0][1]
    assert saved.headers["Content-Disposition"].startswith('attachment; filename="Garden_2026-11-30T00-20-00')
    assert Visitor(api_stack).get(f"/cameras/{camera_id}/frames.zip",
                                  params={"since": "2026-11-30", "until": "2026-12-01"}).status_code == 404


def test_a_frame_gone_before_or_while_zipping(api_stack: ApiStack, tmp_path: Path) -> None:
    """Gone before the first byte: an error answer. Gone once the zip is under way: the
    body stops short of its Content-Length (curl: partial file), never a wrong zip."""
    owner = sign_up(api_stack)
    camera = create_camera(api_stack, owner, name="Gaps")
    seeded = seed_frames(api_stack, camera["username"], [BASE_US + n * 1000 for n in range(400)])
    s3 = make_s3_client(S3Settings(s3_endpoint=api_stack.env["SENSR_S3_ENDPOINT"],
                                   s3_access_key=api_stack.env["SENSR_S3_ACCESS_KEY"],
                                   s3_secret_key=api_stack.env["SENSR_S3_SECRET_KEY"]))
    s3.remove_object(api_stack.env["SENSR_S3_BUCKET"], seeded[0][0].object_key)
    s3.remove_object(api_stack.env["SENSR_S3_BUCKET"], seeded[-1][0].object_key)
    url = api_stack.api(f"/cameras/{camera['id']}/frames.zip")
    first = owner.session.get(url, params={"since": BASE_US / 1e6, "until": (BASE_US + 1000) / 1e6}, timeout=30)
    assert first.status_code == 404 and first.json()["message"] == "the image is no longer stored"
    target = tmp_path / "cut.zip"
    cut = subprocess.run(["curl", "-sS", "-o", str(target), "-H", f"Authorization: Bearer {owner.token}",
                          f"{url}?since={(BASE_US + 1000) / 1e6}&until={(BASE_US + 400_000) / 1e6}"],
                         capture_output=True, text=True)
    assert cut.returncode == 18, cut.stderr  # CURLE_PARTIAL_FILE
    assert target.stat().st_size > 512 * 1024  # the missing frame is the last: much was sent first
