//! `local seed`: realistic pending messages, inserted in batches with a progress bar.

use anyhow::Context;
use dispatcher_core::db;
use dispatcher_core::domain::{Content, NewMessage, PhoneNumber};
use dispatcher_core::repository::messages;
use dispatcher_core::Config;
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::IndexedRandom;
use rand::Rng;

const BATCH: usize = 1_000;

/// Country prefixes and mobile ranges that look like real traffic.
const PREFIXES: &[(&str, usize)] = &[("+90 5", 9), ("+44 7", 9), ("+49 15", 9), ("+1 ", 10), ("+31 6", 8)];

const TEMPLATES: &[&str] = &[
    "Your verification code is {code}. It expires in 5 minutes.",
    "Siparişiniz #{order} kargoya verildi. Takip için uygulamayı açın.",
    "Hi! Your order #{order} has shipped and arrives tomorrow.",
    "Reminder: your appointment is on {day} at 10:30. Reply C to cancel.",
    "%20 indirim sadece bugün! Kod: SALE{code}",
    "Your package #{order} is out for delivery 🚚",
    "Payment of €{amount} received. Thank you!",
    "Hesabınıza yeni bir giriş yapıldı. Siz değilseniz şifrenizi değiştirin.",
];

pub async fn run(config: &Config, count: u32) -> anyhow::Result<()> {
    let pool = db::connect(&config.database, 2).await?;
    let total = count as usize;
    let progress = progress_bar(total);
    let mut rng = rand::rng();
    let mut created = 0usize;
    while created < total {
        let size = BATCH.min(total - created);
        let batch: Vec<NewMessage> =
            (0..size).map(|_| random_message(&mut rng, config)).collect::<anyhow::Result<_>>()?;
        let inserted =
            messages::insert_skipping_taken_keys(&pool, &batch).await.context("inserting seed messages")?;
        created += inserted.len();
        progress.inc(inserted.len() as u64);
    }
    progress.finish_and_clear();
    println!("seeded {created} pending messages");
    Ok(())
}

fn progress_bar(total: usize) -> ProgressBar {
    if total < 2 * BATCH {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} messages ({per_sec}, eta {eta})") {
        bar.set_style(style);
    }
    bar
}

fn random_message(rng: &mut impl Rng, config: &Config) -> anyhow::Result<NewMessage> {
    let (prefix, digits) = PREFIXES.choose(rng).copied().unwrap_or(("+90 5", 9));
    let mut number: String = prefix.chars().filter(|c| *c == '+' || c.is_ascii_digit()).collect();
    for _ in 0..digits {
        number.push(char::from(b'0' + rng.random_range(0..10)));
    }
    let template = TEMPLATES.choose(rng).copied().unwrap_or(TEMPLATES[0]);
    let text = template
        .replace("{code}", &rng.random_range(100_000..1_000_000).to_string())
        .replace("{order}", &rng.random_range(10_000..99_999).to_string())
        .replace("{day}", ["Monday", "Tuesday", "Friday"].choose(rng).copied().unwrap_or("Monday"))
        .replace("{amount}", &format!("{}.{:02}", rng.random_range(5..500), rng.random_range(0..100)));
    let phone_number = PhoneNumber::parse(&number).context("generated phone number")?;
    let content = Content::parse(&text, config.messages.char_limit).context("generated content")?;
    Ok(NewMessage::new(phone_number, content, config.messages.max_attempts))
}
