"""The api's acceptance, against the real Kafka, SeaweedFS, ingest_http and catalog_worker,
once with SQLite and once with PostgreSQL: a camera's whole life, users and tokens, who
sees which camera (owner, other users, anonymous, public, share links), frame queries
and image caching."""

from __future__ import annotations

import io
from typing import Any

import requests
from PIL import Image

from api.v1.openapi import OPERATIONS
from sensr.frames import now_us
from tests.support.activity_records import event_of, save_events
from tests.support.harness import eventually
from tests.support.jpegs import make_jpeg
from tests.support.api import PASSWORD, Account, ApiStack, camera_record, create_camera, seed_frames, sign_up

HOUR_US = 3_600_000_000
ROUTE_COUNT = sum(op.path.startswith("/cameras/{camera_id}") for op in OPERATIONS)


def get(stack: ApiStack, path: str, account: Account | None = None, **kwargs: Any) -> requests.Response:
    return (account.session if account else requests).get(stack.url + path if path.startswith("/api") else
                                                           stack.api(path), timeout=30, **kwargs)


def upload(url: str, jpeg: bytes) -> int:
    return requests.put(url, data=jpeg, headers={"Content-Type": "image/jpeg"}, timeout=30).status_code


def with_password(url: str, old: str, new: str) -> str:
    return url.replace(f":{old}@", f":{new}@")


def test_camera_life(edge_stack: ApiStack, kafka_bootstrap: str) -> None:
    """Sign up, create a camera, upload through ingest_http with the returned login, see the
    frame and its bytes, rotate the password, delete."""
    owner = sign_up(edge_stack)
    camera = create_camera(edge_stack, owner, name="Front-Door Camera")
    username, password = camera["username"], camera["password"]
    assert camera["host"] == "127.0.0.1" and username.startswith("cam") and len(password) >= 20
    port = edge_stack.env["SENSR_HTTP_PORT"]
    assert camera["upload_urls"]["photo"] == f"http://{username}:{password}@127.0.0.1:{port}/photo/{username}"
    record = camera_record(kafka_bootstrap, username)
    assert record is not None and record.camera_id == camera["id"] and record.check_password(password)

    jpeg = make_jpeg(160, 120, seed=11)
    assert upload(camera["upload_urls"]["photo"], jpeg) == 200
    frames = eventually(lambda: get(edge_stack, f"/cameras/{camera['id']}/frames", owner).json()["frames"])
    [frame] = frames
    assert (frame["camera_id"], frame["size"], frame["width"], frame["height"], frame["source"]) == \
        (camera["id"], len(jpeg), 160, 120, "http")
    image = get(edge_stack, frame["image_url"], owner)
    assert image.status_code == 200 and image.content == jpeg
    assert image.headers["Content-Type"] == "image/jpeg" and "immutable" in image.headers["Cache-Control"]
    revalidated = get(edge_stack, frame["image_url"], owner, headers={"If-None-Match": image.headers["ETag"]})
    assert revalidated.status_code == 304 and not revalidated.content
    thumbnail = get(edge_stack, frame["thumbnail_url"], owner)
    assert thumbnail.status_code == 200 and Image.open(io.BytesIO(thumbnail.content)).format == "JPEG"
    assert get(edge_stack, f"/cameras/{camera['id']}/frames/latest", owner).json() == frame
    assert get(edge_stack, f"/cameras/{camera['id']}/frames/{frame['id']}", owner).json() == frame
    calendar = get(edge_stack, f"/cameras/{camera['id']}/calendar", owner).json()
    assert calendar["total"] == 1 and calendar["hours"][0]["count"] == 1

    rotated = owner.session.post(edge_stack.api(f"/cameras/{camera['id']}/password"), timeout=30).json()
    assert rotated["username"] == username and rotated["password"] != password
    record = camera_record(kafka_bootstrap, username)
    assert record is not None and record.check_password(rotated["password"]) and not record.check_password(password)
    eventually(lambda: upload(camera["upload_urls"]["photo"], jpeg) == 401)
    assert upload(rotated["upload_urls"]["photo"], make_jpeg(160, 120, seed=12)) == 200

    assert owner.session.delete(edge_stack.api(f"/cameras/{camera['id']}"), timeout=30).status_code == 204
    assert get(edge_stack, f"/cameras/{camera['id']}", owner).status_code == 404
    assert camera_record(kafka_bootstrap, username) is None  # the tombstone
    eventually(lambda: upload(rotated["upload_urls"]["photo"], jpeg) == 404)
    assert owner.session.get(edge_stack.api("/cameras"), timeout=30).json() == {"cameras": []}


def test_disabled_camera_cannot_upload(edge_stack: ApiStack, kafka_bootstrap: str) -> None:
    owner = sign_up(edge_stack)
    camera = create_camera(edge_stack, owner)
    changed = owner.session.patch(edge_stack.api(f"/cameras/{camera['id']}"), json={"enabled": False}, timeout=30)
    assert changed.status_code == 200 and changed.json()["enabled"] is False
    record = camera_record(kafka_bootstrap, camera["username"])
    assert record is not None and record.enabled is False
    eventually(lambda: upload(camera["upload_urls"]["photo"], make_jpeg()) >= 400)


def test_sign_up_login_logout(edge_stack: ApiStack) -> None:
    email = "  Ada.Lovelace@Example.COM "
    created = requests.post(edge_stack.api("/users"), json={"email": email, "password": PASSWORD}, timeout=30)
    assert created.status_code == 201
    assert created.json()["email"] == "ada.lovelace@example.com"
    again = requests.post(edge_stack.api("/users"), json={"email": "ada.lovelace@EXAMPLE.com", "password": PASSWORD},
                          timeout=30)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    short = requests.post(edge_stack.api("/users"), json={"email": "b@example.com", "password": "short"}, timeout=30)
    assert short.status_code == 400 and "at least" in short.json()["message"]
    assert requests.post(edge_stack.api("/users"), json={"email": "nobody", "password": PASSWORD},
                         timeout=30).status_code == 400

    wrong = requests.post(edge_stack.api("/tokens"), json={"email": email, "password": PASSWORD + "!"}, timeout=30)
    assert wrong.status_code == 401 and wrong.json()["error"] == "unauthorized"
    login = requests.post(edge_stack.api("/tokens"), json={"email": email, "password": PASSWORD}, timeout=30)
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    me = requests.get(edge_stack.api("/me"), headers=headers, timeout=30).json()
    assert me["email"] == "ada.lovelace@example.com"
    assert requests.delete(edge_stack.api("/tokens/current"), headers=headers, timeout=30).status_code == 204
    assert requests.get(edge_stack.api("/me"), headers=headers, timeout=30).status_code == 401
    assert requests.get(edge_stack.api("/me"), timeout=30).status_code == 401


def test_camera_logins_and_user_logins_do_not_cross(edge_stack: ApiStack) -> None:
    """A camera's upload login opens nothing here; a user's login uploads nothing."""
    owner = sign_up(edge_stack)
    camera = create_camera(edge_stack, owner)
    upload_login = {"email": camera["username"], "password": camera["password"]}
    assert requests.post(edge_stack.api("/tokens"), json=upload_login, timeout=30).status_code == 401
    as_bearer = {"Authorization": f"Bearer {camera['password']}"}
    assert requests.get(edge_stack.api("/me"), headers=as_bearer, timeout=30).status_code == 401
    photo = f"{edge_stack.ingest_url}/photo/{camera['username']}"
    with_token = requests.post(photo, data=make_jpeg(), timeout=30, headers={
        "Authorization": f"Bearer {owner.token}", "Content-Type": "image/jpeg"})
    assert with_token.status_code == 401
    with_user_password = requests.post(photo, data=make_jpeg(), auth=(owner.email, PASSWORD), timeout=30)
    assert with_user_password.status_code == 401


def camera_routes(camera_id: str, **ids: str) -> list[tuple[str, str, bool]]:
    """(method, path, whether it needs a login) of every route of one camera, from the
    OpenAPI document, with `ids` in its other placeholders (`frame_id`, `share_id`...)."""
    routes = []
    for op in OPERATIONS:
        if op.path.startswith("/cameras/{camera_id}"):
            path = op.path.format(camera_id=camera_id, **ids)
            routes.append((op.method.upper(), path, op.access == "user"))
    return routes


def test_private_camera_is_invisible_to_everyone_else(edge_stack: ApiStack) -> None:
    a, b = sign_up(edge_stack), sign_up(edge_stack)
    camera = create_camera(edge_stack, a)
    [(frame, _)] = seed_frames(edge_stack, camera["username"], [now_us()])
    share = a.session.post(edge_stack.api(f"/cameras/{camera['id']}/shares"), timeout=30).json()
    other = create_camera(edge_stack, b)
    others_share = b.session.post(edge_stack.api(f"/cameras/{other['id']}/shares"), timeout=30).json()["token"]

    save_events(edge_stack, [event_of([frame], [5.0], f"{camera['id']}-event")])
    rule = a.session.post(edge_stack.api(f"/cameras/{camera['id']}/alerts"),
                          json={"channel": "email", "target": "owner@example.org"}, timeout=30).json()
    clip = a.session.post(edge_stack.api(f"/cameras/{camera['id']}/clips"),
                          json={"event_id": f"{camera['id']}-event"}, timeout=30).json()
    routes = camera_routes(camera["id"], frame_id=frame.frame_id, share_id=share["id"],
                           event_id=f"{camera['id']}-event", rule_id=rule["id"], clip_id=clip["id"])
    assert len(routes) == ROUTE_COUNT
    for method, path, needs_login in routes:
        as_b = b.session.request(method, edge_stack.api(path), json={}, timeout=30)
        assert as_b.status_code == 404, (method, path, as_b.text)
        assert as_b.json()["error"] == "not_found"
        anonymous = requests.request(method, edge_stack.api(path), params={"share": others_share}, timeout=30)
        assert anonymous.status_code == (401 if needs_login else 404), (method, path)
    for method, path, _ in routes:  # and everything still works for the owner
        if method == "GET" and not path.endswith(("live.mjpg", "events")):
            # (a clip not rendered yet has no video; a zip and a frame-at-time need their query)
            wanted = 404 if path.endswith("video.mp4") else 400 if path.endswith(("frames.zip", "timeline/frame")) else 200
            assert a.session.get(edge_stack.api(path), timeout=30).status_code == wanted, path
    assert [c["id"] for c in b.session.get(edge_stack.api("/cameras"), timeout=30).json()["cameras"]] == [other["id"]]


def test_public_camera_is_readable_by_all_and_changeable_by_its_owner(edge_stack: ApiStack) -> None:
    a, b = sign_up(edge_stack), sign_up(edge_stack)
    camera = create_camera(edge_stack, a, public=True)
    [(frame, jpeg)] = seed_frames(edge_stack, camera["username"], [now_us()])
    for reader in (None, b):
        seen = get(edge_stack, f"/cameras/{camera['id']}", reader).json()
        assert seen["public"] is True and not {"host", "username", "password", "upload_urls"} & set(seen)
        [listed] = get(edge_stack, f"/cameras/{camera['id']}/frames", reader).json()["frames"]
        assert listed["id"] == frame.frame_id and camera["username"] not in str(listed)
        assert get(edge_stack, listed["image_url"], reader).content == jpeg
    with requests.get(edge_stack.api(f"/cameras/{camera['id']}/live.mjpg"), stream=True, timeout=30) as live:
        assert live.status_code == 200 and live.headers["Content-Type"].startswith("multipart/x-mixed-replace")
    assert requests.patch(edge_stack.api(f"/cameras/{camera['id']}"), json={"name": "x"}, timeout=30).status_code == 401
    for method, path in [("PATCH", ""), ("DELETE", ""), ("POST", "/password"), ("GET", "/shares"), ("POST", "/shares")]:
        assert b.session.request(method, edge_stack.api(f"/cameras/{camera['id']}{path}"), json={},
                                 timeout=30).status_code == 403
    assert a.session.patch(edge_stack.api(f"/cameras/{camera['id']}"), json={"public": False}, timeout=30).ok
    assert get(edge_stack, f"/cameras/{camera['id']}").status_code == 404
    assert get(edge_stack, f"/cameras/{camera['id']}/frames/{frame.frame_id}/image", b).status_code == 404


def test_share_link_opens_exactly_one_camera_until_revoked(edge_stack: ApiStack) -> None:
    a, b = sign_up(edge_stack), sign_up(edge_stack)
    camera, sibling = create_camera(edge_stack, a), create_camera(edge_stack, a)
    [(_, jpeg)] = seed_frames(edge_stack, camera["username"], [now_us()])
    shares = edge_stack.api(f"/cameras/{camera['id']}/shares")
    created = a.session.post(shares, json={"label": "for grandma"}, timeout=30)
    assert created.status_code == 201
    share = created.json()
    assert share["url"] == f"{edge_stack.url}/api/v1/cameras/{camera['id']}?share={share['token']}"

    seen = requests.get(share["url"], timeout=30)
    assert seen.status_code == 200 and "password" not in seen.json()
    assert requests.get(edge_stack.api(f"/cameras/{camera['id']}"), headers={"X-Sensr-Share": share["token"]},
                        timeout=30).status_code == 200
    [listed] = requests.get(edge_stack.api(f"/cameras/{camera['id']}/frames"), params={"share": share["token"]},
                            timeout=30).json()["frames"]
    assert requests.get(edge_stack.url + listed["image_url"], timeout=30).content == jpeg  # the link carries the token
    assert requests.get(edge_stack.api(f"/cameras/{sibling['id']}"), params={"share": share["token"]},
                        timeout=30).status_code == 404
    as_b = b.session.patch(edge_stack.api(f"/cameras/{camera['id']}"), params={"share": share["token"]},
                           json={"name": "mine"}, timeout=30)
    assert as_b.status_code == 403

    listing = a.session.get(shares, timeout=30).json()["shares"]
    assert [(s["id"], s["label"]) for s in listing] == [(share["id"], "for grandma")] and "token" not in listing[0]
    assert a.session.delete(f"{shares}/{share['id']}", timeout=30).status_code == 204
    assert requests.get(share["url"], timeout=30).status_code == 404
    assert requests.get(edge_stack.url + listed["image_url"], timeout=30).status_code == 404
    assert a.session.delete(f"{shares}/{share['id']}", timeout=30).status_code == 404


def test_frames_page_by_time_with_cursors(edge_stack: ApiStack) -> None:
    owner = sign_up(edge_stack)
    camera = create_camera(edge_stack, owner)
    start = (now_us() // HOUR_US - 5) * HOUR_US
    times = [start + n * 600_000_000 for n in range(9)]  # every 10 minutes over 2 hours
    seeded = [record for record, _ in seed_frames(edge_stack, camera["username"], times)]
    frames_path = f"/cameras/{camera['id']}/frames"

    collected, url = [], edge_stack.api(frames_path) + "?limit=4"
    while url:
        page = owner.session.get(url, timeout=30).json()
        collected += page["frames"]
        url = page["next"] and edge_stack.url + page["next"]
    assert [f["id"] for f in collected] == [r.frame_id for r in seeded]

    newest = get(edge_stack, frames_path, owner, params={"order": "desc", "limit": 2}).json()["frames"]
    assert [f["id"] for f in newest] == [seeded[-1].frame_id, seeded[-2].frame_id]
    iso_window = get(edge_stack, frames_path, owner, params={"since": collected[2]["timestamp"],
                                                             "until": collected[5]["timestamp"]}).json()["frames"]
    epoch_window = get(edge_stack, frames_path, owner, params={"since": str(times[2] / 1e6),
                                                               "until": str(times[5] // 1_000_000)}).json()["frames"]
    assert [f["id"] for f in iso_window] == [f["id"] for f in epoch_window] == [r.frame_id for r in seeded[2:5]]

    calendar = get(edge_stack, f"/cameras/{camera['id']}/calendar", owner,
                   params={"since": str(start // 1_000_000), "until": str((start + 3 * HOUR_US) // 1_000_000)}).json()
    assert [(h["start_us"], h["count"]) for h in calendar["hours"]] == [(start, 6), (start + HOUR_US, 3)]
    assert calendar["total"] == 9

    for params in ({"since": "yesterday"}, {"limit": "0"}, {"cursor": "bogus"}, {"order": "up"}):
        bad = get(edge_stack, frames_path, owner, params=params)
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_input", params
    assert get(edge_stack, f"/cameras/{camera['id']}/frames/{'0' * 26}", owner).status_code == 404


def test_errors_are_json(edge_stack: ApiStack) -> None:
    owner = sign_up(edge_stack)
    for response, status in [
        (requests.get(edge_stack.api("/nowhere"), timeout=30), 404),
        (requests.put(edge_stack.api("/users"), timeout=30), 405),
        (requests.post(edge_stack.api("/users"), data=b"{not json", timeout=30), 400),
        (owner.session.post(edge_stack.api("/cameras"), json={"name": "x", "colour": "red"}, timeout=30), 400),
        (owner.session.patch(edge_stack.api("/cameras/nope"), json={}, timeout=30), 404),
        (requests.get(edge_stack.api("/me"), headers={"Authorization": "Basic eDp5"}, timeout=30), 401),
    ]:
        assert response.status_code == status
        assert response.headers["Content-Type"].startswith("application/json")
        assert set(response.json()) == {"error", "message"}
