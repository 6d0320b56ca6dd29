//! Translations: Vietnamese first, English available. Messages live in `locales/<lang>/*.ftl`.

use std::borrow::Cow;
use std::collections::HashMap;

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "vi",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static VI: LanguageIdentifier = langid!("vi");
static EN: LanguageIdentifier = langid!("en");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Vi,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.trim().to_ascii_lowercase().as_str() {
            "vi" => Some(Lang::Vi),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Vi => "vi",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Vi => Lang::En,
            Lang::En => Lang::Vi,
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::Vi => &VI,
            Lang::En => &EN,
        }
    }

    /// The message `key`; the key itself when missing (a test checks none is missing).
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.id(), key)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The message `key`, when there is one.
    pub fn try_t(self, key: &str) -> Option<String> {
        LOCALES.try_lookup(self.id(), key)
    }

    fn lookup_args(self, key: &str, args: &[(&str, String)]) -> Option<String> {
        let map: HashMap<Cow<'static, str>, FluentValue> = args
            .iter()
            .map(|(k, v)| (Cow::Owned((*k).to_owned()), FluentValue::from(v.clone())))
            .collect();
        LOCALES.try_lookup_with_args(self.id(), key, &map)
    }

    pub fn t_args(self, key: &str, args: &[(&str, String)]) -> String {
        self.lookup_args(key, args)
            .unwrap_or_else(|| key.to_owned())
    }

    /// The human message for an error: the translation of `err-<code>` when there is one,
    /// else the English message the use case gave.
    pub fn error(self, e: &egov_app::AppError) -> String {
        let key = format!("err-{}", e.code.as_str().replace('_', "-"));
        self.lookup_args(&key, &e.args)
            .unwrap_or_else(|| e.message.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A message defined twice makes the whole bundle fail to load at the first page shown:
    /// every key is defined once per language.
    #[test]
    fn no_message_is_defined_twice() {
        for lang in ["vi", "en"] {
            let path = format!("{}/locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
            let text = std::fs::read_to_string(&path).unwrap();
            let mut seen = std::collections::HashSet::new();
            for line in text.lines() {
                let Some((key, _)) = line.split_once(" =") else {
                    continue;
                };
                if key.is_empty() || key.starts_with([' ', '#', '.']) {
                    continue;
                }
                assert!(
                    seen.insert(key.to_owned()),
                    "{lang}: {key} is defined twice"
                );
            }
            assert!(seen.len() > 500, "{lang}: {} keys read", seen.len());
        }
    }

    /// Every file under these directories (relative to this crate), recursively.
    fn files_under(dirs: &[&str]) -> Vec<(std::path::PathBuf, String)> {
        let mut out = Vec::new();
        let mut todo: Vec<std::path::PathBuf> = dirs
            .iter()
            .map(|d| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(d))
            .collect();
        while let Some(dir) = todo.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    todo.push(p);
                } else if let Ok(text) = std::fs::read_to_string(&p) {
                    out.push((p, text));
                }
            }
        }
        out
    }

    #[test]
    fn every_key_used_exists_in_both_languages() {
        let mut keys = std::collections::BTreeSet::new();
        for (_, text) in files_under(&["templates", "src"]) {
            for marker in [".t(\"", ".t1(\"", ".t_args(\""] {
                for part in text.split(marker).skip(1) {
                    if let Some(end) = part.find('"') {
                        let k = &part[..end];
                        if !k.is_empty() && !k.contains(' ') && !k.contains('{') {
                            keys.insert(k.to_owned());
                        }
                    }
                }
            }
        }
        assert!(keys.len() > 50, "found only {} keys", keys.len());
        // Keys built at run time.
        for r in egov_domain::org::Role::ALL {
            keys.insert(format!("role-{}", r.as_str().replace('_', "-")));
        }
        for k in ["merged", "split"] {
            keys.insert(format!("succession-{k}"));
        }
        for k in ["division", "office", "one-stop", "other"] {
            keys.insert(format!("unit-kind-{k}"));
        }
        for s in egov_domain::onestop::dossier::State::ALL {
            keys.insert(format!("state-{}", s.as_str().replace('_', "-")));
        }
        for e in egov_domain::onestop::dossier::Event::ALL {
            keys.insert(format!("event-{}", e.as_str().replace('_', "-")));
        }
        for k in [
            "event-submit",
            "event-appointment-reissued",
            "timeliness-early",
            "timeliness-on-time",
            "timeliness-late",
            "copy-kind-original",
            "copy-kind-copy",
            "copy-kind-certified-copy",
            "counter-supplement",
            "counter-received",
            "counter-refused",
            "dossier-acted",
            "dossier-title",
            "register-col-sets",
            "form-receipt",
            "form-supplement-request",
            "form-refusal",
            "form-apology",
            "form-stop-notice",
            "form-process-control",
            "form-register",
            "register-col-note",
        ] {
            keys.insert(k.to_owned());
        }
        for k in ["queued", "running", "done", "dead"] {
            keys.insert(format!("job-state-{k}"));
        }
        use egov_domain::documents::flow::{InEvent, InState, OutEvent, OutState};
        for s in OutState::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(InState::ALL.iter().map(|s| s.as_str()))
        {
            keys.insert(format!("doc-state-{}", s.replace('_', "-")));
        }
        for e in OutEvent::ALL
            .iter()
            .map(|e| e.as_str())
            .chain(InEvent::ALL.iter().map(|e| e.as_str()))
            .chain(["draft", "refuse_recall"])
        {
            keys.insert(format!("doc-event-{}", e.replace('_', "-")));
        }
        for u in egov_domain::documents::kind::Urgency::ALL {
            keys.insert(format!("urgency-{}", u.as_str().replace('_', "-")));
        }
        for s in egov_domain::documents::kind::Secrecy::ALL {
            keys.insert(format!("secrecy-{}", s.as_str().replace('_', "-")));
        }
        for c in ["01", "02", "03", "04", "05", "06", "13", "15", "16"] {
            keys.insert(format!("edxml-status-{c}"));
        }
        for c in ["13", "15", "16"] {
            keys.insert(format!("recall-status-{c}"));
        }
        for r in ["main", "draft", "attachment"] {
            keys.insert(format!("file-role-{r}"));
        }
        for st in ["valid", "invalid", "indeterminate", "unsigned"] {
            keys.insert(format!("signature-{st}"));
        }
        for st in ["pending", "approved", "rejected", "withdrawn"] {
            keys.insert(format!("image-state-{st}"));
        }
        for k in ["signature", "seal"] {
            keys.insert(format!("image-kind-{k}"));
        }
        for k in [
            "incoming-registered",
            "incoming-duplicate",
            "document-acted",
            "document-title",
        ] {
            keys.insert(k.to_owned());
        }
        for k in ["confirmed", "draft", "proposed"] {
            keys.insert(format!("cal-status-{k}"));
        }
        for k in egov_domain::calendar::DayKind::ALL {
            keys.insert(format!("day-kind-{}", k.as_str().replace('_', "-")));
        }
        for d in 1..=7 {
            keys.insert(format!("weekday-{d}"));
        }
        for k in [
            "office-title",
            "agencies-title",
            "unit-details",
            "totp-setup-title",
            "structure-three-tier",
            "structure-two-tier",
            "code-official",
            "code-derived",
            "code-local",
            "error-400",
            "error-401",
            "error-403",
            "error-404",
            "error-409",
            "error-413",
            "error-429",
            "error-500",
        ] {
            keys.insert(k.to_owned());
        }
        let root = env!("CARGO_MANIFEST_DIR");
        let defined = |lang: &str| -> std::collections::BTreeSet<String> {
            std::fs::read_to_string(format!("{root}/locales/{lang}/main.ftl"))
                .unwrap()
                .lines()
                .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim().to_owned()))
                .filter(|k| !k.starts_with('#') && !k.is_empty())
                .collect()
        };
        let (vi, en) = (defined("vi"), defined("en"));
        assert_eq!(vi, en, "both languages define the same messages");
        let missing: Vec<_> = keys.iter().filter(|k| !vi.contains(*k)).collect();
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }

    /// Every stable error code (each variant of `egov_app::Code`) has a message in both
    /// languages.
    #[test]
    fn every_error_code_is_translated() {
        assert!(egov_app::Code::ALL.len() > 200);
        let missing: Vec<_> = egov_app::Code::ALL
            .iter()
            .flat_map(|&c| {
                [Lang::Vi, Lang::En]
                    .into_iter()
                    .filter(move |l| {
                        // Probe with every argument name our messages use.
                        let e = [
                            "what",
                            "line",
                            "reason",
                            "expected",
                            "found",
                            "code",
                            "agency",
                            "successor",
                            "role",
                            "position",
                            "min",
                            "max",
                            "until",
                            "username",
                            "value",
                            "id",
                            "event",
                            "state",
                            "version",
                            "sum",
                            "limit",
                            "published",
                            "statutory",
                            "name",
                            "form",
                            "detail",
                            "ink",
                            "field",
                        ]
                        .into_iter()
                        .fold(egov_app::AppError::invalid(c, "untranslated"), |e, a| {
                            e.arg(a, "x")
                        });
                        l.error(&e) == "untranslated"
                    })
                    .map(move |l| format!("{}:{c}", l.code()))
            })
            .collect();
        assert!(
            missing.is_empty(),
            "error codes without a message: {missing:?}"
        );
    }

    #[test]
    fn errors_translate_with_arguments() {
        let e = egov_app::AppError::invalid(egov_app::Code::PasswordTooShort, "x").arg("min", 10);
        assert!(Lang::Vi.error(&e).contains("10"));
        assert!(Lang::En.error(&e).contains("10"));
    }
}
