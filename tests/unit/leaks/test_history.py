"""Reading ``git log -p`` (leaks.history): each token an added line holds, with its commit,
file and line; removed and context lines, and added lines looking like headers, read right."""

from __future__ import annotations

from ostiary.leaks.history import scan_git_log
from ostiary.security.tokens import TokenKind, mint_token


def test_added_lines_are_found_with_commit_file_and_line() -> None:
    first, second = mint_token(TokenKind.API_KEY), mint_token(TokenKind.AUTHORIZATION)
    fake = first[:-1] + ("A" if first[-1] != "A" else "B")
    log = f"""commit:aaaa1111
diff --git a/app/.env b/app/.env
new file mode 100644
--- /dev/null
+++ b/app/.env
@@ -0,0 +1,3 @@
+A=1
+KEY={first}
+FAKE={fake}
commit:bbbb2222
diff --git a/app/.env b/app/.env
--- a/app/.env
+++ b/app/.env
@@ -10,4 +10,4 @@ context
 unchanged
-KEY={first}
+++ not a header {second}
 after
"""
    found = list(scan_git_log(log.splitlines(keepends=True)))
    assert [(f.commit, f.path, f.line, f.token) for f in found] == [
        ("aaaa1111", "app/.env", 2, first),
        ("bbbb2222", "app/.env", 11, second),
    ]
