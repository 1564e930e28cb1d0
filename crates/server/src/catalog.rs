//! Turning a film described as text (the admin form, the command line) into a valid
//! [`MovieDraft`], collecting every problem at once so a person can fix them in one go.

use crate::render::MovieFormFields;
use marquee_domain::{
    CastMember, ContentRating, Genre, Language, MovieDraft, PersonName, Runtime, Slug, Synopsis,
    Title, ValidationError, Year,
};
use marquee_store::Movie;

/// Parses the text fields; an empty slug is made from the title and year.
pub fn draft_from_fields(f: &MovieFormFields) -> Result<MovieDraft, Vec<ValidationError>> {
    let mut errors = Vec::new();
    let title = keep(&mut errors, Title::parse(&f.title));
    let original_title = keep(
        &mut errors,
        match f.original_title.trim() {
            "" => Ok(None),
            o => Title::parse(o)
                .map(Some)
                .map_err(|e| ValidationError::new("original_title", e.message)),
        },
    );
    let year = keep(
        &mut errors,
        match f.year.trim() {
            "" => Ok(None),
            y => Year::parse(y).map(Some),
        },
    );
    let runtime = keep(
        &mut errors,
        match f.runtime_minutes.trim() {
            "" => Ok(None),
            r => Runtime::parse(r).map(Some),
        },
    );
    let synopsis = keep(&mut errors, Synopsis::parse(&f.synopsis));
    let genres = keep(
        &mut errors,
        split_list(&f.genres, ',')
            .map(Genre::parse)
            .collect::<Result<Vec<_>, _>>(),
    );
    let directors = keep(
        &mut errors,
        split_list(&f.directors, '\n')
            .map(|d| PersonName::parse(d).map_err(|e| ValidationError::new("directors", e.message)))
            .collect::<Result<Vec<_>, _>>(),
    );
    let cast = keep(
        &mut errors,
        split_list(&f.cast, '\n')
            .map(|line| {
                let (name, character) = line.split_once(" as ").unwrap_or((line, ""));
                CastMember::new(name, character)
                    .map_err(|e| ValidationError::new("cast", e.message))
            })
            .collect::<Result<Vec<_>, _>>(),
    );
    let content_rating = keep(&mut errors, ContentRating::parse(&f.content_rating));
    let language = keep(&mut errors, Language::parse(&f.language));
    let slug = keep(
        &mut errors,
        match f.slug.trim() {
            "" => Ok(None),
            s => Slug::parse(s).map(Some),
        },
    );
    let (
        Some(title),
        Some(original_title),
        Some(year),
        Some(runtime),
        Some(synopsis),
        Some(genres),
        Some(directors),
        Some(cast),
        Some(content_rating),
        Some(language),
        Some(slug),
    ) = (
        title,
        original_title,
        year,
        runtime,
        synopsis,
        genres,
        directors,
        cast,
        content_rating,
        language,
        slug,
    )
    else {
        return Err(errors);
    };
    let slug = slug.unwrap_or_else(|| Slug::from_title(title.as_str(), year));
    MovieDraft {
        slug,
        title,
        original_title,
        year,
        runtime,
        synopsis,
        genres,
        directors,
        cast,
        content_rating,
        language,
    }
    .check()
    .map_err(|e| vec![e])
}

fn keep<T>(errors: &mut Vec<ValidationError>, r: Result<T, ValidationError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

fn split_list(raw: &str, sep: char) -> impl Iterator<Item = &str> {
    raw.split(sep).map(str::trim).filter(|s| !s.is_empty())
}

/// The form fields showing a stored film, for editing.
pub fn fields_from_movie(m: &Movie) -> MovieFormFields {
    MovieFormFields {
        title: m.title.clone(),
        original_title: m.original_title.clone().unwrap_or_default(),
        slug: m.slug.clone(),
        year: m.year.map(|y| y.to_string()).unwrap_or_default(),
        runtime_minutes: m.runtime_minutes.map(|r| r.to_string()).unwrap_or_default(),
        genres: m.genres.join(", "),
        directors: m.directors.join("\n"),
        cast: m
            .cast
            .iter()
            .map(|c| {
                if c.character.is_empty() {
                    c.name.clone()
                } else {
                    format!("{} as {}", c.name, c.character)
                }
            })
            .collect::<Vec<_>>()
            .join("\n"),
        content_rating: m.content_rating.clone(),
        language: m.language.clone(),
        synopsis: m.synopsis.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields() -> MovieFormFields {
        MovieFormFields {
            title: "The Work".into(),
            year: "2017".into(),
            runtime_minutes: "89".into(),
            genres: "Documentary".into(),
            directors: "Jairus McLeary\nGethin Aldous".into(),
            cast: "Charles Tyrone Ross as Himself\nChris Dowd".into(),
            content_rating: "NR".into(),
            language: "English".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_complete_form_becomes_a_draft_with_a_derived_slug() {
        let d = draft_from_fields(&fields()).unwrap();
        assert_eq!(d.slug.as_str(), "the-work-2017");
        assert_eq!(d.directors.len(), 2);
        assert_eq!(d.cast[0].character, "Himself");
        assert_eq!(d.cast[1].character, "");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let f = MovieFormFields {
            title: " ".into(),
            year: "1500".into(),
            runtime_minutes: "x".into(),
            ..fields()
        };
        let errors = draft_from_fields(&f).unwrap_err();
        let names: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(names, ["title", "year", "runtime_minutes"]);
    }
}
