"""Canned responses over the REST API (SQLite and PostgreSQL): CRUD, names unique per
workspace, templates checked on save, sanitized html, the list's filters and pages, and
workspace isolation."""
import pytest

from tests.gateway.apifactory import auth

URL = "/api/v1/canned"
GREETING = {"name": "Greeting", "text": "Hi {customer.name}, about #{ticket.number}: ...",
            "tags": ["hello", "billing"]}


def create(client, body=None, slug="demo"):
    return client.post(URL, json=body or GREETING, headers=auth(slug))


def fields_of(response) -> dict:
    assert response.status_code == 400, response.get_json()
    return response.get_json()["error"]["fields"]


def test_create_then_get(client):
    created = create(client)
    assert created.status_code == 201
    body = created.get_json()
    assert body["name"] == "Greeting" and body["text"] == GREETING["text"]
    assert (body["html"], body["tags"], body["uses"]) == ("", ["hello", "billing"], 0)
    assert body["created_at"] and body["updated_at"]
    fetched = client.get(f"{URL}/{body['id']}", headers=auth())
    assert fetched.status_code == 200 and fetched.get_json() == body


def test_put_replaces_every_field_and_delete_removes(client):
    canned_id = create(client).get_json()["id"]
    put = client.put(f"{URL}/{canned_id}", json={"name": "Hello", "text": "Hello!"},
                     headers=auth())
    assert put.status_code == 200
    assert (put.get_json()["name"], put.get_json()["tags"]) == ("Hello", [])
    assert client.delete(f"{URL}/{canned_id}", headers=auth()).status_code == 204
    assert client.get(f"{URL}/{canned_id}", headers=auth()).status_code == 404
    assert client.delete(f"{URL}/{canned_id}", headers=auth()).status_code == 404


def test_duplicate_name_is_a_409_and_other_workspaces_may_use_it(client):
    assert create(client).status_code == 201
    again = create(client, {**GREETING, "name": "  Greeting "})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "name_taken"
    assert create(client, slug="acme").status_code == 201


def test_renaming_onto_another_name_is_a_409(client):
    create(client)
    other = create(client, {"name": "Other", "text": "x"}).get_json()["id"]
    response = client.put(f"{URL}/{other}", json=GREETING, headers=auth())
    assert response.status_code == 409
    assert client.get(f"{URL}/{other}", headers=auth()).get_json()["name"] == "Other"


def test_another_workspaces_canned_response_is_a_404(client):
    canned_id = create(client).get_json()["id"]
    for method in ("get", "put", "delete"):
        response = getattr(client, method)(f"{URL}/{canned_id}", json=GREETING,
                                           headers=auth("acme"))
        assert response.status_code == 404, method
    assert client.get(URL, headers=auth("acme")).get_json()["canned"] == []


@pytest.mark.parametrize("text, named", [
    ("Hi {ticket.__class__}", "{ticket.__class__}"), ("{0} and {1}", "{0}, {1}"),
    ("{customer.name.__init__.__globals__}", "{customer.name.__init__.__globals__}"),
    ("{agent.name!r}", "{agent.name!r}")])
def test_unknown_placeholders_are_a_400_naming_them(client, text, named):
    problem = fields_of(create(client, {"name": "x", "text": text}))["text"]
    assert f"unknown placeholders {named};" in problem


def test_unknown_placeholders_in_html_are_named_too(client):
    problem = fields_of(create(client, {"name": "x", "text": "ok", "html": "<p>{x.y}</p>"}))
    assert "{x.y}" in problem["html"]


def test_character_references_that_decode_to_a_placeholder_are_refused(client):
    html = "<p>&#123;ticket.__class__&#125;</p>"
    problem = fields_of(create(client, {"name": "x", "text": "ok", "html": html}))["html"]
    assert problem.startswith("once sanitized: unknown placeholders {ticket.__class__}")


@pytest.mark.parametrize("body, field", [
    ({"text": "x"}, "name"), ({"name": "x"}, "text"), ({"name": " ", "text": "x"}, "name"),
    ({"name": "a\nb", "text": "x"}, "name"), ({"name": "x" * 201, "text": "x"}, "name"),
    ({"name": "x", "text": "   "}, "text"), ({"name": "x", "text": "x" * 100_001}, "text"),
    ({"name": "x", "text": "a {"}, "text"), ({"name": "x", "text": 5}, "text"),
    ({"name": "x", "text": "x", "html": "x" * 400_001}, "html"),
    ({"name": "x", "text": "x", "tags": ["a"] * 51}, "tags"),
    ({"name": "x", "text": "x", "tags": [""]}, "tags[0]"),
    ({"name": "x", "text": "x", "uses": 5}, "uses")])
def test_bad_bodies_are_a_400_naming_the_field(client, body, field):
    assert field in fields_of(create(client, body))


def test_nul_bytes_are_refused(client):
    response = client.post(URL, data=b'{"name": "x", "text": "a\\u0000b"}',
                           headers={**auth(), "Content-Type": "application/json"})
    assert response.status_code == 400 and "text" in response.get_json()["error"]["fields"]


def test_html_is_stored_sanitized_with_its_placeholders(client):
    html = '<p onclick="x()">Hi <b>{customer.name}</b><script>steal()</script> {{ok}}</p>'
    body = create(client, {"name": "x", "text": "Hi", "html": html}).get_json()
    assert "script" not in body["html"] and "onclick" not in body["html"]
    assert "<b>{customer.name}</b>" in body["html"] and "{{ok}}" in body["html"]


def test_tags_are_kept_once_in_order(client):
    body = create(client, {**GREETING, "tags": ["b", "a", "b"]}).get_json()
    assert body["tags"] == ["b", "a"]


def test_list_filters_by_name_substring_and_tag_and_pages(client):
    for name, tags in (("Refund ok", ["billing"]), ("Refund 100%_", ["billing", "vip"]),
                       ("Shipping", ["logistics"])):
        assert create(client, {"name": name, "text": "x", "tags": tags}).status_code == 201

    def names(query):
        response = client.get(URL + query, headers=auth())
        assert response.status_code == 200, response.get_json()
        return [c["name"] for c in response.get_json()["canned"]]
    assert names("") == ["Shipping", "Refund 100%_", "Refund ok"]
    assert names("?q=refund") == ["Refund 100%_", "Refund ok"]
    assert names("?q=100%25_") == ["Refund 100%_"]
    assert names("?tag=vip") == ["Refund 100%_"]
    assert names("?tag=billing&q=ok") == ["Refund ok"]
    first = client.get(URL + "?limit=2", headers=auth()).get_json()
    rest = client.get(f"{URL}?limit=2&cursor={first['next_cursor']}", headers=auth()).get_json()
    assert [c["name"] for c in first["canned"] + rest["canned"]] == names("")
    assert rest["next_cursor"] is None


@pytest.mark.parametrize("query, field", [("?limit=0", "limit"), ("?cursor=zz", "cursor"),
                                          ("?q=" + "x" * 501, "q"), ("?tag=%00", "tag")])
def test_bad_list_parameters_are_a_400(client, query, field):
    assert field in fields_of(client.get(URL + query, headers=auth()))


def test_a_cursor_of_another_list_is_refused(client):
    from gateway.api.params import encode_cursor
    assert "cursor" in fields_of(client.get(f"{URL}?cursor={encode_cursor('c', 5)}",
                                            headers=auth()))


def test_without_a_key_it_is_a_401(client):
    assert client.get(URL).status_code == 401
    assert client.post(URL, json=GREETING).status_code == 401
