//! Loading settings: defaults, then the config file, then `EGOV__SECTION__KEY` variables.

use std::path::Path;

use anyhow::{Context, Result};
use egov_app::Settings;

/// Loads the settings: defaults, the data directory's own settings file (written by `egov demo`),
/// the configuration file, then the environment. `data_dir` (from `--data-dir`) wins over every
/// source, and the data directory is made absolute so that nothing resolves it twice.
pub fn load(file: Option<&Path>, data_dir: Option<&Path>) -> Result<Settings> {
    let first = build(file, None)?;
    let dir = data_dir.map_or_else(|| first.data_dir.clone(), Path::to_path_buf);
    let dir = std::path::absolute(&dir)
        .with_context(|| format!("the data directory {}", dir.display()))?;
    let local = dir.join(egov_app::settings::DATA_DIR_SETTINGS);
    let mut settings = if local.is_file() {
        build(file, Some(&local))?
    } else {
        first
    };
    settings.data_dir = dir;
    settings.validate().map_err(|e| anyhow::anyhow!(e))?;
    Ok(settings)
}

fn build(file: Option<&Path>, data_dir_file: Option<&Path>) -> Result<Settings> {
    let mut b = config::Config::builder();
    if let Some(f) = data_dir_file {
        b = b.add_source(
            config::File::from(f)
                .format(config::FileFormat::Toml)
                .required(true),
        );
    }
    if let Some(f) = file {
        b = b.add_source(config::File::from(f).required(true));
    }
    b = b.add_source(
        config::Environment::with_prefix("EGOV")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true),
    );
    let what = data_dir_file.map_or(String::new(), |f| format!(" (with {})", f.display()));
    b.build()
        .with_context(|| format!("reading the configuration{what}"))?
        .try_deserialize()
        .with_context(|| format!("the configuration{what} has an unknown key or a wrong value"))
}

pub fn to_toml(s: &Settings) -> Result<String> {
    let v = serde_json::to_value(s)?;
    Ok(json_to_toml(&v, ""))
}

/// A small TOML printer for our settings (tables of scalars).
fn json_to_toml(v: &serde_json::Value, prefix: &str) -> String {
    let mut scalars = String::new();
    let mut tables = String::new();
    if let serde_json::Value::Object(map) = v {
        for (k, val) in map {
            match val {
                serde_json::Value::Object(_) => {
                    let name = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    tables.push_str(&format!("\n[{name}]\n{}", json_to_toml(val, &name)));
                }
                other => scalars.push_str(&format!("{k} = {other}\n")),
            }
        }
    }
    scalars + &tables
}

pub fn init_logging(s: &Settings) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&s.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if s.log.format == "json" {
        let _ = builder.json().flatten_event(true).try_init();
    } else {
        let _ = builder.try_init();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_configuration_is_valid_and_complete() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../egov.example.toml");
        let s = load(Some(&path), None).expect("egov.example.toml loads");
        assert_eq!(s.onestop.code_format, "{agency}-{yymmdd}-{seq:4}");
        assert!(s.server.secure_cookies);
        // Every key of every section is shown in the example.
        let example = std::fs::read_to_string(&path).unwrap();
        let v = serde_json::to_value(&s).unwrap();
        for (section, keys) in v.as_object().unwrap() {
            let Some(keys) = keys.as_object() else {
                continue;
            };
            assert!(
                example.contains(&format!("[{section}]")),
                "[{section}] missing"
            );
            for k in keys.keys() {
                assert!(
                    example.contains(&format!("\n{k} ="))
                        || example.contains(&format!("[[{section}.{k}]]"))
                        || example.contains(&format!("[{section}.{k}]")),
                    "{section}.{k} missing from egov.example.toml"
                );
            }
        }
    }
}
