//! Every migration reverses cleanly: down to zero, then up again, leaves a working schema.

#![allow(clippy::unwrap_used)]

mod support;

use sqlx::PgPool;

#[sqlx::test(migrations = false)]
async fn migrating_down_to_zero_and_up_again_leaves_a_working_schema(pool: PgPool) {
    let migrator = &shared::db::MIGRATOR;
    assert!(migrator.iter().all(|m| m.migration_type.is_reversible()), "every migration has a .down.sql");

    migrator.run(&pool).await.unwrap();
    support::insert(&pool, 1).await;
    migrator.undo(&pool, 0).await.unwrap();

    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(tables, 0, "down to zero removes every table");

    migrator.run(&pool).await.unwrap();
    support::insert(&pool, 2).await;
    assert_eq!(support::count(&pool).await, 1);
    let state: String =
        sqlx::query_scalar("SELECT state FROM scheduler_state").fetch_one(&pool).await.unwrap();
    assert_eq!(state, "running");
}
