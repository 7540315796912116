"""Apps, collaborators, config vars, releases and add-ons over HTTP, in Heroku's shapes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.schema import assert_matches_heroku
from tests.support.server import ServerProcess

# Heroku leaves team-app permissions out of a personal app's collaborators (the heroku CLI's
# `access` shows a permissions column whenever the key is there).
PERSONAL_APP = frozenset({"permissions"})


def _name(prefix: str = "app") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture
def api(server: ServerProcess, account: UserAccount) -> Iterator[httpx.Client]:
    """A client acting as ``account``."""
    with server.client(account.api_key) as client:
        yield client


@pytest.fixture
def app_name(api: httpx.Client) -> str:
    """An app owned by ``account``."""
    name = _name()
    assert api.post("/apps", json={"name": name}).status_code == 201
    return name


class TestAccountResource:
    def test_account_matches_heroku_schema(self, api: httpx.Client, account: UserAccount) -> None:
        body = api.get("/account").json()
        assert_matches_heroku("account", body)
        assert body["email"] == account.email

    def test_users_tilde_is_the_account(self, api: httpx.Client, account: UserAccount) -> None:
        assert api.get("/users/~").json() == api.get("/account").json()
        assert api.get(f"/users/{account.email}").json()["id"] == account.id

    def test_another_user_is_not_found(self, api: httpx.Client, other_account: UserAccount) -> None:
        response = api.get(f"/users/{other_account.id}")
        assert response.status_code == 404
        assert response.json()["resource"] == "user"

    def test_patch_changes_name_and_flags(self, api: httpx.Client) -> None:
        body = api.patch(
            "/account", json={"name": "Ada L", "beta": True, "allow_tracking": False}
        ).json()
        assert_matches_heroku("account", body)
        assert (body["name"], body["beta"], body["allow_tracking"]) == ("Ada L", True, False)
        assert api.get("/users/~").json()["name"] == "Ada L"

    def test_email_is_case_insensitive_unique(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        from tests.support.server import run_cli

        result = run_cli(
            "accounts",
            "create",
            account.email.upper(),
            "--password-stdin",
            env=server.env,
            stdin="another long password\n",
        )
        assert result.returncode == 1
        assert "already exists" in result.stderr

    def test_rate_limit_shape(self, api: httpx.Client) -> None:
        assert_matches_heroku("rate-limit", api.get("/account/rate-limits").json())


class TestApps:
    def test_create_matches_schema_and_fields_the_cli_needs(
        self, api: httpx.Client, account: UserAccount
    ) -> None:
        name = _name()
        response = api.post("/apps", json={"name": name, "region": "eu"})
        assert response.status_code == 201
        body = response.json()
        assert_matches_heroku("app", body)
        assert body["name"] == name
        assert body["owner"] == {"id": account.id, "email": account.email}
        assert body["region"]["name"] == "eu"
        assert body["stack"]["name"] == body["build_stack"]["name"] == "heroku-24"
        assert body["web_url"] == f"https://{name}.herokuapp.com/"
        assert body["git_url"] == f"https://git.heroku.com/{name}.git"
        assert "repo_size" in body
        assert "slug_size" in body

    def test_generated_name_follows_the_rule(self, api: httpx.Client) -> None:
        from ostiary.apps.names import is_valid_app_name

        response = api.post("/apps")
        assert response.status_code == 201
        assert is_valid_app_name(response.json()["name"])

    @pytest.mark.parametrize(
        "bad", ["A-upper", "1starts-with-digit", "ab", "ends-with-", "x" * 31, "sp ace"]
    )
    def test_bad_names_are_422(self, api: httpx.Client, bad: str) -> None:
        response = api.post("/apps", json={"name": bad})
        assert response.status_code == 422
        assert response.json()["id"] == "invalid_params"
        assert "name" in response.json()["message"].lower()

    def test_taken_name_is_409_and_writes_nothing(self, api: httpx.Client, app_name: str) -> None:
        before = len(api.get("/apps").json())
        response = api.post("/apps", json={"name": app_name})
        assert response.status_code == 409
        assert response.json()["id"] == "conflict"
        assert len(api.get("/apps").json()) == before

    def test_unknown_region_is_422(self, api: httpx.Client) -> None:
        response = api.post("/apps", json={"name": _name(), "region": "mars"})
        assert response.status_code == 422
        assert "region" in response.json()["message"]

    def test_info_by_name_and_id(self, api: httpx.Client, app_name: str) -> None:
        by_name = api.get(f"/apps/{app_name}").json()
        by_id = api.get(f"/apps/{by_name['id']}").json()
        assert by_id == by_name
        assert_matches_heroku("app", by_id)

    def test_list_and_users_apps(self, api: httpx.Client, app_name: str) -> None:
        names = [app["name"] for app in api.get("/apps").json()]
        assert app_name in names
        assert [a["name"] for a in api.get("/users/~/apps").json()] == names
        for app in api.get("/apps").json():
            assert_matches_heroku("app", app)

    def test_rename_and_maintenance(self, api: httpx.Client, app_name: str) -> None:
        new_name = _name("renamed")
        body = api.patch(f"/apps/{app_name}", json={"name": new_name, "maintenance": True}).json()
        assert_matches_heroku("app", body)
        assert (body["name"], body["maintenance"]) == (new_name, True)
        assert api.get(f"/apps/{app_name}").status_code == 404

    def test_delete_answers_with_the_app_and_it_is_gone(
        self, api: httpx.Client, app_name: str
    ) -> None:
        response = api.delete(f"/apps/{app_name}")
        assert response.status_code == 200
        assert response.json()["name"] == app_name
        assert api.get(f"/apps/{app_name}").status_code == 404


class TestIsolation:
    def test_strangers_cannot_see_or_touch_an_app(
        self, server: ServerProcess, app_name: str, other_account: UserAccount
    ) -> None:
        with server.client(other_account.api_key) as stranger:
            assert app_name not in [a["name"] for a in stranger.get("/apps").json()]
            for method, path, body in [
                ("GET", f"/apps/{app_name}", None),
                ("PATCH", f"/apps/{app_name}", {"maintenance": True}),
                ("DELETE", f"/apps/{app_name}", None),
                ("GET", f"/apps/{app_name}/config-vars", None),
                ("PATCH", f"/apps/{app_name}/config-vars", {"STOLEN": "1"}),
                ("GET", f"/apps/{app_name}/collaborators", None),
                ("POST", f"/apps/{app_name}/collaborators", {"user": other_account.email}),
                ("GET", f"/apps/{app_name}/releases", None),
                ("GET", f"/apps/{app_name}/releases/1/config-vars", None),
                ("GET", f"/apps/{app_name}/addons", None),
                ("GET", f"/apps/{app_name}/addon-attachments", None),
                ("GET", f"/apps/{app_name}/dynos", None),
                ("GET", f"/apps/{app_name}/pipeline-couplings", None),
                ("POST", "/actions/addons/resolve", {"addon": "DATABASE", "app": app_name}),
                (
                    "POST",
                    "/actions/addon-attachments/resolve",
                    {"addon_attachment": "DATABASE", "app": app_name},
                ),
                ("POST", f"/apps/{app_name}/addons", {"plan": "heroku-redis:mini"}),
            ]:
                response = stranger.request(method, path, json=body)
                assert response.status_code == 404, (method, path, response.text)
                assert response.json() == {
                    "id": "not_found",
                    "message": "Couldn't find that app.",
                    "resource": "app",
                }

    def test_collaborator_sees_and_configures_but_cannot_delete(
        self, api: httpx.Client, server: ServerProcess, app_name: str, other_account: UserAccount
    ) -> None:
        added = api.post(f"/apps/{app_name}/collaborators", json={"user": other_account.email})
        assert added.status_code == 201
        assert_matches_heroku("collaborator", added.json(), absent=PERSONAL_APP)
        with server.client(other_account.api_key) as collaborator:
            assert app_name in [a["name"] for a in collaborator.get("/users/~/apps").json()]
            assert (
                collaborator.patch(f"/apps/{app_name}/config-vars", json={"A": "1"}).status_code
                == 200
            )
            refused = collaborator.delete(f"/apps/{app_name}")
            assert refused.status_code == 403
            assert refused.json()["id"] == "forbidden"
            cannot_share = collaborator.post(
                f"/apps/{app_name}/collaborators", json={"user": "nobody@example.com"}
            )
            assert cannot_share.status_code == 403
        assert api.get(f"/apps/{app_name}").status_code == 200


class TestCollaborators:
    def test_add_list_info_remove(
        self, api: httpx.Client, app_name: str, account: UserAccount, other_account: UserAccount
    ) -> None:
        created = api.post(
            f"/apps/{app_name}/collaborators", json={"user": other_account.email}
        ).json()
        listed = api.get(f"/apps/{app_name}/collaborators").json()
        assert sorted((c["user"]["email"], c["role"]) for c in listed) == sorted(
            [(account.email, "owner"), (other_account.email, "collaborator")]
        )
        for entry in listed:
            assert_matches_heroku("collaborator", entry, absent=PERSONAL_APP)
        by_email = api.get(f"/apps/{app_name}/collaborators/{other_account.email}").json()
        by_id = api.get(f"/apps/{app_name}/collaborators/{created['id']}").json()
        assert by_email == by_id
        removed = api.delete(f"/apps/{app_name}/collaborators/{other_account.email}")
        assert removed.status_code == 200
        assert removed.json()["id"] == created["id"]
        remaining = api.get(f"/apps/{app_name}/collaborators").json()
        assert [(c["user"]["email"], c["role"]) for c in remaining] == [(account.email, "owner")]

    def test_the_owner_is_listed_and_cannot_be_removed(
        self,
        api: httpx.Client,
        server: ServerProcess,
        app_name: str,
        account: UserAccount,
        other_account: UserAccount,
    ) -> None:
        (owner,) = api.get(f"/apps/{app_name}/collaborators").json()
        assert owner["user"] == {"email": account.email, "federated": False, "id": account.id}
        assert owner["role"] == "owner"
        assert owner["app"]["name"] == app_name
        for identity in (account.email, account.email.upper(), account.id, owner["id"]):
            assert api.get(f"/apps/{app_name}/collaborators/{identity}").json() == owner
        refused = api.delete(f"/apps/{app_name}/collaborators/{account.email}")
        assert refused.status_code == 403
        assert refused.json()["id"] == "forbidden"
        api.post(f"/apps/{app_name}/collaborators", json={"user": other_account.email})
        with server.client(other_account.api_key) as collaborator:
            seen = collaborator.get(f"/apps/{app_name}/collaborators").json()
            assert owner in seen  # a collaborator sees who owns the app
            attempt = collaborator.delete(f"/apps/{app_name}/collaborators/{account.email}")
            assert attempt.status_code == 403
        assert owner in api.get(f"/apps/{app_name}/collaborators").json()

    def test_range_pages_hold_the_owner_exactly_once(
        self, api: httpx.Client, app_name: str, factory: Factory
    ) -> None:
        for _ in range(3):
            email = factory.account("page").email
            api.post(f"/apps/{app_name}/collaborators", json={"user": email})
        everyone = api.get(f"/apps/{app_name}/collaborators").json()
        assert len(everyone) == 4
        for order in ("", ", order=desc"):
            seen, header = [], f"id ..; max=1{order}"
            while header:
                response = api.get(f"/apps/{app_name}/collaborators", headers={"Range": header})
                assert len(response.json()) == 1
                seen += [entry["id"] for entry in response.json()]
                header = response.headers.get("Next-Range", "")
            expected = sorted(entry["id"] for entry in everyone)
            assert seen == (expected[::-1] if order else expected)

    def test_twice_is_conflict_and_unknown_user_is_404(
        self, api: httpx.Client, app_name: str, other_account: UserAccount
    ) -> None:
        api.post(f"/apps/{app_name}/collaborators", json={"user": other_account.id})
        again = api.post(f"/apps/{app_name}/collaborators", json={"user": other_account.email})
        assert again.status_code == 409
        unknown = api.post(f"/apps/{app_name}/collaborators", json={"user": "ghost@example.com"})
        assert unknown.status_code == 404
        assert unknown.json()["resource"] == "user"


class TestConfigVarsAndReleases:
    def test_patch_sets_unsets_and_returns_the_whole_map(
        self, api: httpx.Client, app_name: str
    ) -> None:
        assert api.get(f"/apps/{app_name}/config-vars").json() == {}
        first = api.patch(f"/apps/{app_name}/config-vars", json={"A": "1", "B": "2"}).json()
        assert first == {"A": "1", "B": "2"}
        second = api.patch(f"/apps/{app_name}/config-vars", json={"A": None, "C": "3"}).json()
        assert second == {"B": "2", "C": "3"}
        assert api.get(f"/apps/{app_name}/config-vars").json() == second

    def test_each_change_is_a_release(self, api: httpx.Client, app_name: str) -> None:
        api.patch(f"/apps/{app_name}/config-vars", json={"A": "1"})
        api.patch(f"/apps/{app_name}/config-vars", json={"A": "1"})  # no change: no release
        api.patch(f"/apps/{app_name}/config-vars", json={"A": None})
        releases = api.get(f"/apps/{app_name}/releases").json()
        assert [r["version"] for r in releases] == [1, 2, 3]
        assert [r["description"] for r in releases] == [
            "Initial release",
            "Set A config vars",
            "Remove A config vars",
        ]
        for release in releases:
            assert_matches_heroku("release", release)
        assert [r["current"] for r in releases] == [False, False, True]

    def test_latest_release_as_config_set_reads_it(self, api: httpx.Client, app_name: str) -> None:
        api.patch(f"/apps/{app_name}/config-vars", json={"X": "y"})
        response = api.get(
            f"/apps/{app_name}/releases", headers={"Range": "version ..; order=desc,max=1"}
        )
        assert response.status_code == 206
        assert [r["version"] for r in response.json()] == [2]
        assert api.get(f"/apps/{app_name}/releases/2").json()["description"] == "Set X config vars"

    def test_each_release_keeps_its_config_vars(self, api: httpx.Client, app_name: str) -> None:
        api.patch(f"/apps/{app_name}/config-vars", json={"A": "1"})
        api.patch(f"/apps/{app_name}/config-vars", json={"B": "secret value"})
        api.patch(f"/apps/{app_name}/config-vars", json={"A": None})
        api.post(f"/apps/{app_name}/addons", json={"plan": "papertrail"})
        expected = [{}, {"A": "1"}, {"A": "1", "B": "secret value"}, {"B": "secret value"}]
        expected.append(expected[-1])  # an add-on's release keeps the config it found
        for version, config in enumerate(expected, start=1):
            response = api.get(f"/apps/{app_name}/releases/{version}/config-vars")
            assert response.status_code == 200
            assert response.json() == config
            assert_matches_heroku("config-var", response.json())
        release_id = api.get(f"/apps/{app_name}/releases/2").json()["id"]
        assert api.get(f"/apps/{app_name}/releases/{release_id}/config-vars").json() == {"A": "1"}
        missing = api.get(f"/apps/{app_name}/releases/99/config-vars")
        assert missing.status_code == 404
        assert missing.json()["resource"] == "release"

    def test_invalid_key_is_422_and_nothing_changes(self, api: httpx.Client, app_name: str) -> None:
        response = api.patch(f"/apps/{app_name}/config-vars", json={"GOOD": "1", "bad key": "x"})
        assert response.status_code == 422
        assert "bad key" in response.json()["message"]
        assert response.json()["field"] == "bad key"
        empty = api.patch(f"/apps/{app_name}/config-vars", json={"": "x"})
        assert empty.status_code == 422
        assert empty.json()["field"] == "body"
        assert api.get(f"/apps/{app_name}/config-vars").json() == {}
        assert len(api.get(f"/apps/{app_name}/releases").json()) == 1

    def test_non_string_value_is_422(self, api: httpx.Client, app_name: str) -> None:
        response = api.patch(f"/apps/{app_name}/config-vars", json={"PORT": 5000})
        assert response.status_code == 422
        assert "PORT" in response.json()["message"]


class TestAddOns:
    def test_lifecycle(self, api: httpx.Client, app_name: str) -> None:
        created = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-postgresql"})
        assert created.status_code == 201
        addon = created.json()
        assert_matches_heroku("add-on", addon)
        assert addon["plan"]["name"] == "heroku-postgresql:essential-0"
        assert addon["state"] == "provisioned"
        assert api.get(f"/apps/{app_name}/addons/{addon['name']}").json() == addon
        upgraded = api.patch(
            f"/apps/{app_name}/addons/{addon['id']}", json={"plan": "heroku-postgresql:essential-1"}
        ).json()
        assert upgraded["plan"]["name"] == "heroku-postgresql:essential-1"
        deleted = api.delete(f"/apps/{app_name}/addons/{addon['id']}").json()
        assert deleted["state"] == "deprovisioned"
        assert api.get(f"/apps/{app_name}/addons").json() == []
        descriptions = [r["description"] for r in api.get(f"/apps/{app_name}/releases").json()]
        assert descriptions[1].startswith("Attach ")
        assert descriptions[-1].startswith("Detach ")

    def test_plan_as_object_and_unknown_plan(self, api: httpx.Client, app_name: str) -> None:
        ok = api.post(f"/apps/{app_name}/addons", json={"plan": {"name": "heroku-redis:mini"}})
        assert ok.status_code == 201
        bad = api.post(f"/apps/{app_name}/addons", json={"plan": "nope:free"})
        assert bad.status_code == 422
        assert bad.json()["id"] == "invalid_params"

    def test_switching_service_is_refused(self, api: httpx.Client, app_name: str) -> None:
        addon = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-redis:mini"}).json()
        response = api.patch(f"/apps/{app_name}/addons/{addon['id']}", json={"plan": "papertrail"})
        assert response.status_code == 422

    def test_config_vars_and_price_follow_the_attachment(
        self, api: httpx.Client, app_name: str
    ) -> None:
        first = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-postgresql"}).json()
        second = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-postgresql"}).json()
        assert first["config_vars"] == ["DATABASE_URL"]
        assert second["config_vars"] == ["DATABASE_2_URL"]
        plain = api.get(f"/apps/{app_name}/addons/{first['id']}").json()
        assert set(plain["plan"]) == {"id", "name"}
        expanded = api.get(
            f"/apps/{app_name}/addons/{first['id']}",
            headers={"Accept-Expansion": "addon_service,plan"},
        ).json()
        assert_matches_heroku("add-on", expanded)
        assert expanded["plan"]["price"] == {"cents": 500, "contract": False, "unit": "month"}


@pytest.fixture
def stranger(server: ServerProcess, other_account: UserAccount) -> Iterator[httpx.Client]:
    """A client acting as ``other_account``, who may see none of ``account``'s apps."""
    with server.client(other_account.api_key) as client:
        yield client


class TestAddOnsAcrossApps:
    def test_list_all_shows_only_visible_add_ons(
        self, api: httpx.Client, stranger: httpx.Client, app_name: str
    ) -> None:
        mine = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-redis"}).json()
        theirs_app = stranger.post("/apps").json()["name"]
        theirs = stranger.post(f"/apps/{theirs_app}/addons", json={"plan": "papertrail"}).json()
        listed = api.get("/addons").json()
        assert mine["id"] in [a["id"] for a in listed]
        assert theirs["id"] not in [a["id"] for a in listed]
        for addon in listed:
            assert_matches_heroku("add-on", addon)
        expanded = api.get("/addons", headers={"Accept-Expansion": "plan"}).json()
        assert all(addon["plan"]["price"]["unit"] == "month" for addon in expanded)

    def test_attachments_lists(self, api: httpx.Client, stranger: httpx.Client) -> None:
        one, two = (api.post("/apps").json()["name"] for _ in range(2))
        db = api.post(f"/apps/{one}/addons", json={"plan": "heroku-postgresql"}).json()
        db2 = api.post(f"/apps/{one}/addons", json={"plan": "heroku-postgresql"}).json()
        other = api.post(f"/apps/{two}/addons", json={"plan": "heroku-postgresql"}).json()
        by_app = api.get(f"/apps/{one}/addon-attachments").json()
        assert sorted((a["name"], a["addon"]["id"]) for a in by_app) == [
            ("DATABASE", db["id"]),
            ("DATABASE_2", db2["id"]),
        ]
        for attachment in by_app:
            assert_matches_heroku("add-on-attachment", attachment)
            assert attachment["app"]["name"] == one
            assert attachment["addon"]["app"] == attachment["app"]
        (of_other,) = api.get(f"/addons/{other['name']}/addon-attachments").json()
        assert (of_other["name"], of_other["app"]["name"]) == ("DATABASE", two)
        everywhere = {a["id"] for a in api.get("/addon-attachments").json()}
        assert {a["id"] for a in by_app} | {of_other["id"]} <= everywhere
        assert everywhere.isdisjoint(a["id"] for a in stranger.get("/addon-attachments").json())
        refused = stranger.get(f"/addons/{db['id']}/addon-attachments")
        assert refused.status_code == 404

    def test_resolve_add_ons(
        self, api: httpx.Client, stranger: httpx.Client, app_name: str
    ) -> None:
        db = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-postgresql"}).json()

        def resolve(client: httpx.Client, **body: object) -> httpx.Response:
            return client.post(
                "/actions/addons/resolve",
                json=body,
                headers={"Accept": "application/vnd.heroku+json; version=3.sdk"},
            )

        for body in (
            {"addon": db["name"]},
            {"addon": db["id"], "app": None},
            {"addon": "DATABASE", "app": app_name},
            {"addon": "database", "app": app_name},
            {"addon": f"{app_name}::DATABASE"},
            {"addon": db["name"], "app": app_name, "addon_service": "heroku-postgresql"},
        ):
            response = resolve(api, **body)
            assert response.status_code == 200, body
            assert [a["id"] for a in response.json()] == [db["id"]], body
            assert_matches_heroku("add-on", response.json()[0])
        for body in (
            {"addon": "nope"},
            {"addon": "DATABASE"},  # an attachment name means nothing without an app
            {"addon": db["name"], "addon_service": "heroku-redis"},
        ):
            missing = resolve(api, **body)
            assert missing.status_code == 404, body
            assert missing.json()["resource"] == "add_on"  # the CLI branches on this name
        # Another account cannot find the add-on by name, id or attachment: as if it did not exist.
        for body in ({"addon": db["name"]}, {"addon": db["id"]}):
            refused = resolve(stranger, **body)
            assert refused.status_code == 404
            assert refused.json()["resource"] == "add_on"
        on_app = resolve(stranger, addon="DATABASE", app=app_name)
        assert on_app.status_code == 404
        assert on_app.json()["resource"] == "app"
        bad = api.post("/actions/addons/resolve", json={"app": app_name})
        assert bad.status_code == 422
        assert bad.json()["field"] == "addon"

    def test_resolve_attachments(
        self, api: httpx.Client, stranger: httpx.Client, app_name: str
    ) -> None:
        redis = api.post(f"/apps/{app_name}/addons", json={"plan": "heroku-redis"}).json()
        (attachment,) = api.get(f"/apps/{app_name}/addon-attachments").json()
        for body in (
            {"addon_attachment": "REDIS", "app": app_name},
            {"addon_attachment": f"{app_name}::REDIS", "app": None},
            {"addon_attachment": attachment["id"]},
        ):
            response = api.post("/actions/addon-attachments/resolve", json=body)
            assert response.status_code == 200, body
            assert response.json() == [attachment], body
            assert response.json()[0]["addon"]["id"] == redis["id"]
        for body in (
            {"addon_attachment": "DATABASE", "app": app_name},
            {"addon_attachment": "REDIS"},
        ):
            missing = api.post("/actions/addon-attachments/resolve", json=body)
            assert missing.status_code == 404, body
            assert missing.json()["resource"] == "add_on attachment"
        refused = stranger.post(
            "/actions/addon-attachments/resolve", json={"addon_attachment": attachment["id"]}
        )
        assert refused.status_code == 404


class TestWhatAppsInfoReads:
    def test_an_app_has_no_dynos(self, api: httpx.Client, app_name: str) -> None:
        response = api.get(f"/apps/{app_name}/dynos")
        assert response.status_code == 200
        assert response.json() == []

    def test_an_app_is_in_no_pipeline(self, api: httpx.Client, app_name: str) -> None:
        response = api.get(f"/apps/{app_name}/pipeline-couplings")
        assert response.status_code == 404
        assert response.json() == {
            "id": "not_found",
            "message": "Couldn't find that pipeline coupling.",
            "resource": "pipeline_coupling",
        }
        unknown = api.get("/apps/no-such-app-here/pipeline-couplings")
        assert unknown.json()["resource"] == "app"
