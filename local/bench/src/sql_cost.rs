//! Where our claim and record SQL's time goes: the database ceiling (the claim and the outcome
//! statement at batch 1,000, every message sent, no HTTP) as built, and with one piece of the
//! schema taken away at a time (the count triggers, the indexes a sent message enters, the
//! attempt rows), alternated over several rounds so the machine's drift falls
//! on all alike. Each piece is put back, from its own definition, before the next is taken.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::database::BenchDatabase;
use crate::dispatch::{self, AttemptRows};
use crate::percentile::percentile;

/// A piece of the schema: what takes it away, and the objects whose definitions put it back.
struct Piece {
    name: &'static str,
    /// Triggers on `messages` named LIKE these.
    triggers: &'static [&'static str],
    indexes: &'static [&'static str],
    attempt_rows: AttemptRows,
}

const PIECES: &[Piece] = &[
    Piece { name: "as_built", triggers: &[], indexes: &[], attempt_rows: AttemptRows::Logged },
    Piece {
        name: "without_count_triggers",
        triggers: &["%counts_update"],
        indexes: &[],
        attempt_rows: AttemptRows::Logged,
    },
    Piece {
        name: "without_sent_indexes",
        triggers: &[],
        indexes: &["messages_sent_at_idx", "messages_sent_created_idx", "messages_webhook_message_id_idx"],
        attempt_rows: AttemptRows::Logged,
    },
    Piece { name: "without_attempt_rows", triggers: &[], indexes: &[], attempt_rows: AttemptRows::Skipped },
];

#[derive(Debug, Default, Serialize)]
pub struct SqlCostFigures {
    /// Rows per second through the claim and the outcome statement, by what was taken away
    /// (medians of the rounds).
    pub sql_cost_rows_per_sec: BTreeMap<String, f64>,
    /// Each piece's share of the as-built time per row: 1 - as_built / without it.
    pub sql_cost_share: BTreeMap<String, f64>,
}

pub async fn measure(db: &BenchDatabase, total: i64, rounds: usize) -> anyhow::Result<SqlCostFigures> {
    let mut rates: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for round in 1..=rounds {
        for piece in PIECES {
            eprintln!("sql cost: round {round}/{rounds}, {} ...", piece.name);
            let restore = take_away(db, piece).await?;
            let rate = dispatch::ceiling(db, total, 1000, piece.attempt_rows).await;
            sqlx::raw_sql(&restore).execute(&db.pool).await?;
            rates.entry(piece.name).or_default().push(rate?);
        }
    }
    let mut figures = SqlCostFigures::default();
    for (name, mut samples) in rates {
        figures.sql_cost_rows_per_sec.insert(name.to_owned(), percentile(&mut samples, 50.0));
    }
    let as_built = figures.sql_cost_rows_per_sec.get("as_built").copied().unwrap_or_default();
    for (name, rate) in &figures.sql_cost_rows_per_sec {
        if name != "as_built" {
            figures
                .sql_cost_share
                .insert(name.trim_start_matches("without_").to_owned(), 1.0 - as_built / rate);
        }
    }
    Ok(figures)
}

/// Drops the piece's triggers and indexes; returns the SQL that puts them back as they were.
async fn take_away(db: &BenchDatabase, piece: &Piece) -> anyhow::Result<String> {
    let mut restore = String::new();
    for pattern in piece.triggers {
        let triggers: Vec<(String, String)> = sqlx::query_as(
            "SELECT tgname::text, pg_get_triggerdef(oid) FROM pg_trigger
             WHERE tgname LIKE $1 AND tgrelid = 'messages'::regclass AND NOT tgisinternal",
        )
        .bind(pattern)
        .fetch_all(&db.pool)
        .await?;
        anyhow::ensure!(!triggers.is_empty(), "no trigger on messages is named like {pattern}");
        for (trigger, definition) in triggers {
            sqlx::raw_sql(&format!("DROP TRIGGER {trigger} ON messages")).execute(&db.pool).await?;
            restore.push_str(&definition);
            restore.push_str(";\n");
        }
    }
    for index in piece.indexes {
        let definition: String = sqlx::query_scalar("SELECT pg_get_indexdef($1::regclass)")
            .bind(index)
            .fetch_one(&db.pool)
            .await?;
        sqlx::raw_sql(&format!("DROP INDEX {index}")).execute(&db.pool).await?;
        restore.push_str(&definition);
        restore.push_str(";\n");
    }
    Ok(restore)
}
