//! Vietnamese first, English second: Fluent messages compiled into the binary, the language
//! chosen by a cookie that the switch link sets.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "vi",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

pub const LANG_COOKIE: &str = "lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Self::Vi => "vi",
            Self::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "vi" => Some(Self::Vi),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    fn id(self) -> LanguageIdentifier {
        match self {
            Self::Vi => fluent_templates::langid!("vi"),
            Self::En => fluent_templates::langid!("en"),
        }
    }

    /// A message in this language.
    pub fn t(self, key: &str) -> String {
        LOCALES.lookup(&self.id(), key)
    }

    /// A message in this language, if there is one by that key.
    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(&self.id(), key)
    }

    /// A message with arguments.
    pub fn t_args(self, key: &str, args: &[(&str, String)]) -> String {
        let args: HashMap<Cow<'static, str>, FluentValue> =
            args.iter().map(|(k, v)| (Cow::Owned(k.to_string()), FluentValue::from(v.clone()))).collect();
        LOCALES.lookup_with_args(&self.id(), key, &args)
    }

    /// A date the way this language writes it (dd/mm/yyyy in both).
    pub fn date(self, d: chrono::NaiveDate) -> String {
        d.format("%d/%m/%Y").to_string()
    }

    /// The language of a request: the `lang` cookie, else Vietnamese.
    pub fn from_headers(headers: &axum::http::HeaderMap) -> Self {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|kv| kv.trim().split_once('='))
            .find(|(k, _)| *k == LANG_COOKIE)
            .and_then(|(_, v)| Lang::parse(v))
            .unwrap_or_default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_exists_in_both_languages() {
        let keys = |src: &str| -> Vec<String> {
            src.lines()
                .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_string()))
                .filter(|k| !k.starts_with('#'))
                .collect()
        };
        let vi = keys(include_str!("../../locales/vi/main.ftl"));
        let en = keys(include_str!("../../locales/en/main.ftl"));
        assert_eq!(vi, en);
        assert_eq!(Lang::Vi.t("nav-units"), "Đơn vị hành chính");
        assert_eq!(Lang::En.t("nav-units"), "Administrative units");
        assert_eq!(
            Lang::Vi.t_args("units-results", &[("query", "duc hoa".into()), ("total", "3".into())]),
            "Kết quả tìm \"duc hoa\": 3 đơn vị"
        );
    }
}
