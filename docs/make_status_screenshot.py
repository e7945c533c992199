"""Write docs/screenshots/review_status_page.png: the core-lab status page in headless Chromium.

    .venv/bin/python docs/make_status_screenshot.py

Uses the review-server test fixtures (tests/server/conftest.py): a served project of 8 subjects on
127.0.0.1 over TLS; readers save and sign through the HTTP API, so the page shows every state: reads
signed and agreeing, a disagreement waiting in the adjudication queue, one adjudicated, drafts and
reads not started.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "docs" / "screenshots" / "review_status_page.png"
sys.path.insert(0, str(REPO / "tests"))

from review.conftest import package_case  # noqa: E402
from server.conftest import PASSWORDS, start_server  # noqa: E402

from recist.review.workflow import ReviewProject  # noqa: E402

# per subject: R1's and R2's target sizes (mm) at the 3 timepoints, and what each reader does
PLAN = [
    ([30, 20, 19], [31, 20, 18], "sign", "sign"),   # PR and PR: agree
    ([40, 38, 41], [40, 39, 40], "sign", "sign"),   # SD and SD: agree
    ([25, 15, 14], [25, 16, 15], "sign", "sign"),   # PR and PR: agree
    ([30, 29, 45], [30, 28, 31], "sign", "sign"),   # PD against SD: adjudication
    ([50, 52, 70], [50, 49, 51], "sign", "sign"),   # PD against SD: adjudicated below
    ([22, 14, 13], [22, 15, 14], "sign", "save"),   # R2 still in draft
    ([35, 30, 30], None, "save", None),             # R1 draft, R2 not started
    (None, None, None, None),                       # not started
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp), n_subjects=len(PLAN))
        try:
            project = ReviewProject.open(server.root)
            sessions = {user: server.login(user) for user in ("R1", "R2", "ADJ1", "PM1")}
            for k, plan in enumerate(PLAN):
                p = project.pseudonym(f"NET-{k + 1:03d}")
                for user, sizes, action in (("R1", plan[0], plan[2]), ("R2", plan[1], plan[3])):
                    if sizes is None:
                        continue
                    http = sessions[user]
                    http.put(f"/api/subjects/{p}/read", json=package_case(project, p, sizes)).raise_for_status()
                    if action == "sign":
                        http.post(f"/api/subjects/{p}/sign", json={"password": PASSWORDS[user]}).raise_for_status()
            p5 = project.pseudonym("NET-005")
            sessions["ADJ1"].post(f"/api/subjects/{p5}/adjudicate", json={
                "choose": "A", "reason": "new lesion in segment VI confirmed", "password": PASSWORDS["ADJ1"]},
            ).raise_for_status()
            link = sessions["PM1"].post("/api/status-link").json()["url"]
            OUT.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(["/usr/bin/chromium", "--headless", "--no-sandbox", "--disable-gpu",
                            "--ignore-certificate-errors", "--hide-scrollbars", "--window-size=1000,900",
                            f"--screenshot={OUT}", server.url + link], check=True, capture_output=True, timeout=120)
            for http in sessions.values():
                http.close()
        finally:
            server.stop()
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
