use crate::helpers::TestDb;

#[tokio::test]
async fn cleanup_with_yes_leaves_exactly_users_and_sessions() {
    let t = TestDb::start().await;
    assert!(t.altrion(&["db", "migrate"]).await.status.success());
    t.add_junk("tmp_import").await;
    t.add_junk("old_sessions_backup").await;

    let run = t.altrion(&["db", "cleanup", "--yes"]).await;

    assert!(run.status.success(), "{run:?}");
    assert!(run.stdout.contains("old_sessions_backup") && run.stdout.contains("tmp_import"));
    assert!(
        run.stdout.contains("Dropped 2 collection(s)"),
        "{}",
        run.stdout
    );
    assert_eq!(t.collections().await, ["sessions", "users"]);

    let again = t.altrion(&["db", "cleanup", "--yes"]).await;
    assert!(again.status.success());
    assert!(
        again.stdout.contains("Nothing to clean up"),
        "{}",
        again.stdout
    );
    t.stop().await;
}

#[tokio::test]
async fn dry_run_lists_and_drops_nothing() {
    let t = TestDb::start().await;
    assert!(t.altrion(&["db", "migrate"]).await.status.success());
    t.add_junk("tmp_import").await;

    let run = t.altrion(&["db", "cleanup", "--dry-run"]).await;

    assert!(run.status.success(), "{run:?}");
    assert!(
        run.stdout.contains("Would drop 1 collection(s)"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("tmp_import"));
    assert_eq!(t.collections().await, ["sessions", "tmp_import", "users"]);
    t.stop().await;
}

#[tokio::test]
async fn without_a_terminal_or_yes_cleanup_refuses() {
    let t = TestDb::start().await;
    t.add_junk("tmp_import").await;

    let run = t.altrion(&["db", "cleanup"]).await;

    assert!(!run.status.success());
    assert!(
        run.stderr.contains("stdin is not a terminal"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--yes"));
    assert_eq!(t.collections().await, ["tmp_import"]);
    t.stop().await;
}
