//! The demo catalog (`serve --demo`): films, people, ratings, reviews and helpful votes written
//! for this project, loaded once into an empty database so a new install has something to show.

use crate::auth;
use crate::catalog::draft_from_fields;
use crate::render::MovieFormFields;
use anyhow::{Context, bail};
use marquee_domain::time_fmt::now_ms;
use marquee_domain::{DisplayName, Headline, Password, ReviewText, Stars, Username};
use marquee_store::{NewUser, RatingInput, Store};
use serde::Deserialize;
use std::collections::HashMap;

const CATALOG: &str = include_str!("demo/catalog.json");
/// Every demo reviewer signs in with this password (the README says so); the demo admin gets a
/// random one, printed once.
pub const DEMO_PASSWORD: &str = "marquee-demo";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalog {
    users: Vec<DemoUser>,
    movies: Vec<DemoMovie>,
    reviews: Vec<DemoReview>,
    ratings: Vec<DemoRating>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoUser {
    username: String,
    display_name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoCast {
    name: String,
    character: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoMovie {
    slug: String,
    title: String,
    original_title: String,
    year: u16,
    runtime_minutes: u16,
    synopsis: String,
    genres: Vec<String>,
    directors: Vec<String>,
    cast: Vec<DemoCast>,
    content_rating: String,
    language: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoReview {
    movie: String,
    user: String,
    stars: i64,
    headline: Option<String>,
    body: String,
    anonymous: bool,
    days_ago: i64,
    helpful_yes: Vec<String>,
    helpful_no: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoRating {
    movie: String,
    user: String,
    stars: i64,
}

fn lookup<T: Copy>(map: &HashMap<String, T>, key: &str, what: &str) -> anyhow::Result<T> {
    map.get(key)
        .copied()
        .with_context(|| format!("the demo catalog names an unknown {what} '{key}'"))
}

/// What loading did.
pub enum DemoOutcome {
    Loaded {
        films: usize,
        admin_password: String,
    },
    AlreadyHasFilms,
}

/// Loads the demo catalog into an empty database; leaves a database with films untouched.
pub async fn load(store: &dyn Store) -> anyhow::Result<DemoOutcome> {
    if store.count_movies().await? > 0 {
        return Ok(DemoOutcome::AlreadyHasFilms);
    }
    let catalog: Catalog =
        serde_json::from_str(CATALOG).context("the built-in demo catalog is malformed")?;
    if store.count_users().await? > 0 && store.credentials("admin").await?.is_some() {
        bail!("the database has demo accounts but no films; remove it to load the demo again");
    }
    let now = now_ms();
    let admin_password = auth::random_token()[..16].to_owned();
    let admin_pw = Password::parse(&admin_password)?;
    let demo_pw = Password::parse(DEMO_PASSWORD)?;
    let (admin_hash, demo_hash) = tokio::task::spawn_blocking(move || {
        anyhow::Ok((
            auth::hash_password(&admin_pw)?,
            auth::hash_password(&demo_pw)?,
        ))
    })
    .await??;
    // The admin comes first, so the store makes it the administrator and no reviewer is one.
    store
        .create_user(&NewUser {
            username: Username::parse("admin")?,
            display_name: DisplayName::parse("Marquee admin")?,
            password_hash: admin_hash,
            now_ms: now,
        })
        .await?;
    let mut users = HashMap::new();
    for u in &catalog.users {
        let user = store
            .create_user(&NewUser {
                username: Username::parse(&u.username)?,
                display_name: DisplayName::parse(&u.display_name)?,
                password_hash: demo_hash.clone(),
                now_ms: now,
            })
            .await?;
        users.insert(u.username.clone(), user.id);
    }
    let mut movies = HashMap::new();
    for m in &catalog.movies {
        let fields = MovieFormFields {
            title: m.title.clone(),
            original_title: m.original_title.clone(),
            slug: m.slug.clone(),
            year: m.year.to_string(),
            runtime_minutes: m.runtime_minutes.to_string(),
            genres: m.genres.join(", "),
            directors: m.directors.join("\n"),
            cast: m
                .cast
                .iter()
                .map(|c| format!("{} as {}", c.name, c.character))
                .collect::<Vec<_>>()
                .join("\n"),
            content_rating: m.content_rating.clone(),
            language: m.language.clone(),
            synopsis: m.synopsis.clone(),
        };
        let draft = draft_from_fields(&fields)
            .map_err(|e| anyhow::anyhow!("demo film {}: {e:?}", m.slug))?;
        let movie = store.create_movie(&draft).await?;
        movies.insert(m.slug.clone(), movie.id);
    }
    for r in &catalog.ratings {
        let input = RatingInput {
            stars: Stars::new(r.stars)?,
            headline: None,
            body: None,
            anonymous: false,
            now_ms: now - 86_400_000 * 30,
        };
        store
            .put_rating(
                lookup(&movies, &r.movie, "film")?,
                lookup(&users, &r.user, "user")?,
                &input,
            )
            .await?;
    }
    for r in &catalog.reviews {
        let input = RatingInput {
            stars: Stars::new(r.stars)?,
            headline: Headline::parse_optional(r.headline.as_deref())?,
            body: ReviewText::parse_optional(Some(&r.body))?,
            anonymous: r.anonymous,
            now_ms: now - 86_400_000 * r.days_ago,
        };
        let review = store
            .put_rating(
                lookup(&movies, &r.movie, "film")?,
                lookup(&users, &r.user, "user")?,
                &input,
            )
            .await?;
        for (voters, helpful) in [(&r.helpful_yes, true), (&r.helpful_no, false)] {
            for v in voters {
                store
                    .put_vote(review.id, lookup(&users, v, "user")?, helpful)
                    .await?;
            }
        }
    }
    Ok(DemoOutcome::Loaded {
        films: catalog.movies.len(),
        admin_password,
    })
}
