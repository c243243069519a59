"""The "Add devices" page offers the agent bundle for download, built by the installer."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from installer import settings
from installer.archive import extract
from installer.manifest import verify
from server.services.audit import AuditFilter, AuditLog
from tests.web.conftest import WebHarness
from tests.web.conftest import web as web  # the dashboard harness fixture
from tests.web.test_tenancy_pages import SECRET, read_only, site_id, technician


async def test_the_page_links_bundles_and_the_download_holds_no_token(
    web: WebHarness, tmp_path: Path
) -> None:
    me = await technician(web, "Acme")
    created = await me.client.post(
        "/devices/add",
        data={"site_id": str(await site_id(web, "Acme")), "uses": "5", "csrf_token": me.csrf},
    )
    assert created.status_code == 200
    [secret] = set(SECRET.findall(created.text))
    for fmt in ("deb", "tar", "windows", "macos"):
        assert f'href="/devices/add/bundle?format={fmt}"' in created.text

    response = await me.client.get("/devices/add/bundle", params={"format": "tar"}, timeout=600)
    assert response.status_code == 200, response.text
    assert (
        'filename="parc-agent-0.1.0-linux-x86_64.tar.gz"' in response.headers["content-disposition"]
    )
    assert secret.encode() not in response.content
    (tmp_path / "bundle.tar.gz").write_bytes(response.content)
    top = extract(tmp_path / "bundle.tar.gz", tmp_path / "bundle")
    verify(top)
    config = settings.load(top / "agent.toml")
    assert config.server == str(web.collector.agent_address)
    assert config.enroll_server == str(web.collector.enroll_address)
    assert config.token is None
    assert (top / "ca.crt").read_text() == (web.data_dir / "pki" / "ca.crt").read_text()
    with tarfile.open(fileobj=io.BytesIO(response.content)) as tar:
        assert any(m.name.endswith("/install.sh") for m in tar.getmembers())

    again = await me.client.get("/devices/add/bundle", params={"format": "tar"})
    assert again.content == response.content  # served from the cache
    records = await AuditLog(web.sessions).list(AuditFilter(action="bundle.download"))
    assert [(r.actor_name, r.target_id) for r in records] == [("tech", "tar"), ("tech", "tar")]


async def test_bad_format_and_read_only_users_are_refused(web: WebHarness) -> None:
    me = await technician(web, "Acme")
    bad = await me.client.get("/devices/add/bundle", params={"format": "rpm"})
    assert bad.status_code == 400
    assert "format must be one of" in bad.text
    viewer = await read_only(web)
    refused = await viewer.client.get("/devices/add/bundle", params={"format": "tar"})
    assert refused.status_code == 403
    assert await AuditLog(web.sessions).list(AuditFilter(action="bundle.download")) == []
    assert not (web.data_dir / "installer-bundles").exists()
