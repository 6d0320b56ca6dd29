//! `egov pki …` (operator commands for keys and signed files) and `egov signer …` (the client
//! that runs on a signer's own computer: it lists the documents waiting for their signature,
//! signs with their token through PKCS#11 and sends the signatures back).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use egov_pki::{FileKey, RawSigner, SignRequest};

#[derive(Subcommand)]
pub enum PkiCmd {
    /// Create a demo PKI in DIR (root CA with a CRL, seal certificates for the agencies with a
    /// records office, personal certificates for the leaders) and print the settings that use it.
    Demo {
        dir: PathBuf,
        /// `rsa` (RSA-2048, as Vietnamese CAs issue) or `p256`.
        #[arg(long, default_value = "rsa", value_parser = parse_key_algorithm)]
        key_algorithm: egov_pki::KeyAlgorithm,
    },
    /// Sign IN.pdf into OUT.pdf (PAdES B-B) with a key file or a PKCS#11 key.
    Sign {
        #[command(flatten)]
        key: Box<KeyArgs>,
        input: PathBuf,
        output: PathBuf,
        /// The reason shown by readers.
        #[arg(long)]
        reason: Option<String>,
        /// Time-stamp the signature at this RFC 3161 authority (PAdES B-T).
        #[arg(long)]
        tsa: Option<String>,
    },
    /// Import a PKCS#12 key store (.p12, .pfx): write its certificate chain to OUT.pem and its
    /// key, encrypted under the configured key-encryption key, to OUT.key.pem — the files a
    /// seal's settings name. The store's password comes from `--password-file` or
    /// `EGOV_KEY_PASSWORD`.
    ImportP12 {
        input: PathBuf,
        out: PathBuf,
        #[arg(long)]
        password_file: Option<PathBuf>,
    },
    /// Print the verdict on a PDF's signatures (exit status 0 only when every signature is
    /// valid), judged against the configured trust lists.
    Verify {
        file: PathBuf,
        /// Print the whole report as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Where the signing key is: a key file with its certificate chain, a PKCS#12 key store, or a
/// PKCS#11 token.
#[derive(Args, Clone)]
pub struct KeyArgs {
    /// A PKCS#12 key store (.p12, .pfx) with the key and its certificates; its password comes
    /// from `--key-password-file` or `EGOV_KEY_PASSWORD`.
    #[arg(long, conflicts_with_all = ["key", "pkcs11_module"])]
    p12: Option<PathBuf>,
    /// An encrypted PKCS#8 key file (PEM); its password comes from `--key-password-file` or
    /// `EGOV_KEY_PASSWORD`.
    #[arg(long, conflicts_with = "pkcs11_module")]
    key: Option<PathBuf>,
    /// The certificate chain (PEM, the signer's certificate first). Optional with a token that
    /// holds its certificate.
    #[arg(long)]
    cert: Option<PathBuf>,
    #[arg(long)]
    key_password_file: Option<PathBuf>,
    /// The PKCS#11 module of the token (e.g. /usr/lib/softhsm/libsofthsm2.so).
    #[arg(long)]
    pkcs11_module: Option<PathBuf>,
    #[arg(long)]
    token_label: Option<String>,
    #[arg(long, default_value = "signing")]
    key_label: String,
    /// The token's user PIN; otherwise `EGOV_TOKEN_PIN`.
    #[arg(long, env = "EGOV_TOKEN_PIN", hide_env_values = true)]
    pin: Option<String>,
}

impl KeyArgs {
    /// Opens the key and returns it with its certificate chain.
    fn open(&self) -> Result<(Box<dyn RawSigner>, Vec<egov_pki::x509_cert::Certificate>)> {
        let chain_file = |p: &Path| -> Result<Vec<_>> {
            egov_pki::cert::load_certificates(
                &std::fs::read(p).with_context(|| format!("reading {}", p.display()))?,
            )
            .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))
        };
        if let Some(p12) = &self.p12 {
            let store = read_p12(p12, self.key_password_file.as_deref())?;
            return Ok((Box::new(store.key), store.chain));
        }
        match (&self.key, &self.pkcs11_module) {
            (Some(key), _) => {
                let cert = self
                    .cert
                    .as_deref()
                    .context("a key file needs --cert with its certificate chain")?;
                let password = password(self.key_password_file.as_deref())?.map(String::into_bytes);
                let pem = std::fs::read_to_string(key)
                    .with_context(|| format!("reading {}", key.display()))?;
                let k = FileKey::from_pem(&pem, password.as_deref())
                    .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
                Ok((Box::new(k), chain_file(cert)?))
            }
            (None, Some(module)) => {
                let token = egov_pki::pkcs11::Token {
                    module: module.clone(),
                    token_label: self.token_label.clone(),
                    key_label: self.key_label.clone(),
                    max_pin_tries: 3,
                    tries_file: tries_file(self.token_label.as_deref()),
                };
                let pin = self
                    .pin
                    .clone()
                    .context("give the token PIN (--pin or EGOV_TOKEN_PIN)")?;
                let key = token
                    .open(&pin)
                    .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
                let chain = match &self.cert {
                    Some(c) => chain_file(c)?,
                    None => vec![
                        key.certificate()
                            .map_err(|e| anyhow::anyhow!("{e}"))?
                            .context("the token holds no certificate for this key; give --cert")?,
                    ],
                };
                Ok((Box::new(key), chain))
            }
            (None, None) => bail!("give --key (with --cert) or --pkcs11-module"),
        }
    }
}

/// A password from a file (trimmed), else from `EGOV_KEY_PASSWORD`.
fn password(file: Option<&Path>) -> Result<Option<String>> {
    Ok(match file {
        Some(f) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("reading {}", f.display()))?
                .trim()
                .to_owned(),
        ),
        None => std::env::var("EGOV_KEY_PASSWORD").ok(),
    })
}

fn read_p12(path: &Path, password_file: Option<&Path>) -> Result<egov_pki::pkcs12::KeyStore> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let password = password(password_file)?.unwrap_or_default();
    egov_pki::pkcs12::read(&bytes, &password)
        .map_err(|e| anyhow::anyhow!("{}: {e} ({})", path.display(), e.code()))
}

/// An App without a database of its own, for the commands that only need the settings.
async fn offline_app(settings: egov_app::Settings) -> Result<std::sync::Arc<egov_app::App>> {
    Ok(egov_app::App::with_db(
        egov_store::Db::open(&egov_store::DbOptions::new("sqlite::memory:"))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        settings,
    ))
}

/// Where wrong PINs are counted between runs, per token.
fn tries_file(label: Option<&str>) -> Option<PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    let dir = base.join("egov");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join(format!("pin-tries-{}", label.unwrap_or("default"))))
}

pub async fn run(cmd: PkiCmd, settings: egov_app::Settings) -> Result<()> {
    match cmd {
        PkiCmd::Demo { dir, key_algorithm } => {
            if settings.database.url.trim().is_empty()
                && !Path::new(&settings.database_url()).exists()
            {
                bail!(
                    "no database at {}: `egov pki demo` issues keys to the leaders and records offices of a seeded database. \
                     Seed one first (`egov demo --seed-only`), or name one with --data-dir or --database-url.",
                    settings.database_url()
                );
            }
            let app = super::open(settings).await?;
            let pki = app
                .demo_pki(&dir, key_algorithm)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message))?;
            if pki.people.is_empty() && pki.settings.seals.is_empty() {
                bail!(
                    "the database has no leaders and no records offices to issue keys to: seed it first (`egov demo --seed-only`)"
                );
            }
            println!("Demo PKI in {} (not for real use).", dir.display());
            println!(
                "{} seal keys, {} personal keys; key-encryption key in {}.",
                pki.settings.seals.len(),
                pki.people.len(),
                dir.join("kek").display()
            );
            println!("\nSettings that use it:\n");
            print!(
                "{}",
                toml_signatures(&pki.settings).context("printing the settings")?
            );
            Ok(())
        }
        PkiCmd::Sign {
            key,
            input,
            output,
            reason,
            tsa,
        } => {
            let pdf =
                std::fs::read(&input).with_context(|| format!("reading {}", input.display()))?;
            let handle = tokio::runtime::Handle::current();
            let signed = tokio::task::spawn_blocking(move || -> Result<Vec<u8>> {
                let (signer, chain) = key.open()?;
                let mut request = SignRequest::new(chain, time::OffsetDateTime::now_utc());
                request.reason = reason;
                let tsa = tsa.map(|url| egov_app::signing::blocking_tsa(handle, url));
                egov_pki::sign::sign_with_stamped(
                    &pdf,
                    &request,
                    signer.as_ref(),
                    tsa.as_ref().map(|t| t as egov_pki::sign::Tsa),
                )
                .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))
            })
            .await??;
            std::fs::write(&output, signed)
                .with_context(|| format!("writing {}", output.display()))?;
            println!("Signed {} → {}", input.display(), output.display());
            Ok(())
        }
        PkiCmd::ImportP12 {
            input,
            out,
            password_file,
        } => {
            let app = offline_app(settings).await?;
            let kek = app
                .kek()
                .map_err(|e| anyhow::anyhow!("{}", e.message))?
                .context("no key-encryption key: set signatures.kek_file or the variable of signatures.kek_env")?;
            let store = read_p12(&input, password_file.as_deref())?;
            let mut chain = String::new();
            for c in &store.chain {
                chain.push_str(&egov_pki::cert::to_pem(c).map_err(|e| anyhow::anyhow!("{e}"))?);
            }
            let key = store
                .key
                .to_encrypted_pem(&kek)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            // OUT may hold dots (seal-000.00.00.H56): the suffixes are added, not swapped in.
            let with = |suffix: &str| PathBuf::from(format!("{}{suffix}", out.display()));
            let (cert_path, key_path) = (with(".pem"), with(".key.pem"));
            std::fs::write(&cert_path, chain)
                .with_context(|| format!("writing {}", cert_path.display()))?;
            super::demo::write_private(&key_path, &key)?;
            println!(
                "Imported {}: {} ({} certificates) and {} (key under the key-encryption key).",
                input.display(),
                cert_path.display(),
                store.chain.len(),
                key_path.display()
            );
            println!("Holder: {}", egov_pki::cert::display_name(&store.chain[0]));
            Ok(())
        }
        PkiCmd::Verify { file, json } => {
            let app = offline_app(settings).await?;
            let pdf =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            let report = app
                .verify_pdf(pdf)
                .await
                .map_err(|e| anyhow::anyhow!("{} ({})", e.message, e.code))?;
            if json {
                println!("{}", serde_json::to_string_pretty(&report)?);
            } else {
                print_report(&report);
            }
            if report.status != egov_pki::Status::Valid {
                std::process::exit(1);
            }
            Ok(())
        }
    }
}

pub(crate) fn toml_signatures(s: &egov_app::settings::Signatures) -> Result<String> {
    #[derive(serde::Serialize)]
    struct Wrap<'a> {
        signatures: &'a egov_app::settings::Signatures,
    }
    Ok(toml_text(&serde_json::to_value(Wrap { signatures: s })?))
}

/// A small TOML writer for the settings printed by `egov pki demo` (strings, booleans, lists
/// of strings, tables and arrays of tables).
fn toml_text(v: &serde_json::Value) -> String {
    fn scalar(v: &serde_json::Value) -> Option<String> {
        match v {
            serde_json::Value::String(s) => Some(format!("{s:?}")),
            serde_json::Value::Bool(b) => Some(b.to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            serde_json::Value::Array(a) if a.iter().all(|x| !x.is_object()) => Some(format!(
                "[{}]",
                a.iter().filter_map(scalar).collect::<Vec<_>>().join(", ")
            )),
            _ => None,
        }
    }
    fn table(prefix: &str, v: &serde_json::Value, out: &mut String, array: bool) {
        let Some(map) = v.as_object() else { return };
        if !prefix.is_empty() {
            out.push_str(&if array {
                format!("\n[[{prefix}]]\n")
            } else {
                format!("\n[{prefix}]\n")
            });
        }
        for (k, x) in map {
            if let Some(s) = scalar(x) {
                out.push_str(&format!("{k} = {s}\n"));
            }
        }
        for (k, x) in map {
            let name = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            match x {
                serde_json::Value::Object(_) => table(&name, x, out, false),
                serde_json::Value::Array(a) if a.iter().any(|y| y.is_object()) => {
                    for y in a {
                        table(&name, y, out, true);
                    }
                }
                _ => {}
            }
        }
    }
    let mut out = String::new();
    table("", v, &mut out, false);
    out
}

fn print_report(report: &egov_pki::Report) {
    println!("Verdict: {}", report.status.as_str());
    for (i, s) in report.signatures.iter().enumerate() {
        println!(
            "\n#{} {} — {}",
            i + 1,
            s.signer.as_deref().unwrap_or("(unknown signer)"),
            s.status.as_str()
        );
        if let Some(t) = s.signing_time {
            println!("  signed at {t} ({})", s.time_source);
        }
        if let Some(l) = &s.trust_list {
            println!("  trust list: {l}");
        }
        println!("  changes after it: {}", s.changes_after);
        for f in &s.findings {
            println!("  [{}] {}: {}", f.effect, f.code, f.message);
        }
    }
}

#[derive(Subcommand)]
pub enum SignerCmd {
    /// List the documents waiting for your signature.
    List {
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Sign every document waiting for your signature (or only `--request`).
    Sign {
        #[command(flatten)]
        server: ServerArgs,
        #[command(flatten)]
        key: Box<KeyArgs>,
        /// Only this signature request.
        #[arg(long)]
        request: Option<i64>,
        /// Where your signature image goes, instead of above your name: PAGE,X,Y — the page
        /// and the image's top-left corner in millimetres from the page's top-left corner.
        #[arg(long, value_parser = parse_position)]
        position: Option<egov_app::signing::SignaturePosition>,
    },
}

pub(crate) fn parse_key_algorithm(s: &str) -> Result<egov_pki::KeyAlgorithm, String> {
    match s.to_ascii_lowercase().as_str() {
        "rsa" | "rsa-2048" => Ok(egov_pki::KeyAlgorithm::Rsa),
        "p256" | "p-256" | "ecdsa" => Ok(egov_pki::KeyAlgorithm::EcdsaP256),
        _ => Err("rsa or p256".into()),
    }
}

fn parse_position(s: &str) -> Result<egov_app::signing::SignaturePosition, String> {
    let parts: Vec<&str> = s.split(',').map(str::trim).collect();
    let [page, x, y] = parts[..] else {
        return Err("write PAGE,X,Y (for example 1,110,200)".into());
    };
    let num = |v: &str| {
        v.parse::<f32>()
            .map_err(|_| format!("{v:?} is not a number"))
    };
    Ok(egov_app::signing::SignaturePosition {
        page: page
            .parse()
            .map_err(|_| format!("{page:?} is not a page number"))?,
        x_mm: num(x)?,
        y_mm: num(y)?,
    })
}

#[derive(Args, Clone)]
pub struct ServerArgs {
    /// The egov server, e.g. http://egov.thanhhoa.local:8080
    #[arg(long, env = "EGOV_SERVER")]
    server: String,
    #[arg(long, env = "EGOV_USER")]
    user: String,
    /// Your password; otherwise `EGOV_PASSWORD`.
    #[arg(long, env = "EGOV_PASSWORD", hide_env_values = true)]
    password: String,
    /// The one-time code of an account with a second factor; otherwise `EGOV_TOTP`.
    #[arg(long, env = "EGOV_TOTP")]
    totp: Option<String>,
}

struct Api {
    base: String,
    token: String,
    http: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
}

impl Api {
    async fn sign_in(s: &ServerArgs) -> Result<Api> {
        let base = s.server.trim_end_matches('/').to_owned();
        if base.starts_with("https://") {
            bail!(
                "egov signer speaks plain HTTP only for now: reach the server through a local TLS tunnel \
                 (stunnel, an SSH forward) and give its http:// address"
            );
        }
        let http =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http();
        let mut api = Api {
            base,
            token: String::new(),
            http,
        };
        let v = api
            .call(
                "POST",
                "/api/v1/sessions",
                Some(serde_json::json!({"username": s.user, "password": s.password})),
            )
            .await?;
        api.token = v["token"]
            .as_str()
            .context("the server returned no session token")?
            .to_owned();
        match v["second_factor"].as_str() {
            Some("totp") => {
                let code = s
                    .totp
                    .clone()
                    .context("this account needs its one-time code: give --totp (or EGOV_TOTP)")?;
                api.call(
                    "POST",
                    "/api/v1/sessions/totp",
                    Some(serde_json::json!({ "code": code })),
                )
                .await?;
            }
            Some("setup_required") => {
                bail!("set up the second factor on the web page first, then run egov signer again")
            }
            _ => {}
        }
        Ok(api)
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value> {
        use http_body_util::BodyExt;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .header("accept", "application/json");
        if !self.token.is_empty() {
            req = req.header("authorization", format!("Bearer {}", self.token));
        }
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let resp = self
            .http
            .request(req.body(http_body_util::Full::new(bytes::Bytes::from(body)))?)
            .await
            .with_context(|| format!("reaching {}", self.base))?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !status.is_success() {
            let e = &v["error"];
            match e["code"].as_str() {
                Some(code) => bail!(
                    "{} {path}: {} ({code})",
                    status.as_u16(),
                    e["message"].as_str().unwrap_or("request failed")
                ),
                None => bail!(
                    "{} {path}: {}",
                    status.as_u16(),
                    String::from_utf8_lossy(&bytes)
                ),
            }
        }
        Ok(v)
    }
}

pub async fn signer(cmd: SignerCmd) -> Result<()> {
    match cmd {
        SignerCmd::List { server } => {
            let api = Api::sign_in(&server).await?;
            let waiting = api.call("GET", "/api/v1/me/signatures", None).await?;
            let list = waiting.as_array().cloned().unwrap_or_default();
            if list.is_empty() {
                println!("Nothing waits for your signature.");
            }
            for w in list {
                println!(
                    "{:>6}  {:<16} {}",
                    w["id"],
                    w["notation"].as_str().unwrap_or("-"),
                    w["subject"].as_str().unwrap_or("")
                );
            }
            Ok(())
        }
        SignerCmd::Sign {
            server,
            key,
            request,
            position,
        } => {
            let (signer, chain) = key.open()?;
            let chain_pem = chain
                .iter()
                .map(egov_pki::cert::to_pem)
                .collect::<Result<String, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let api = Api::sign_in(&server).await?;
            let waiting = api.call("GET", "/api/v1/me/signatures", None).await?;
            let ids: Vec<i64> = waiting
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .filter_map(|w| w["id"].as_i64())
                .filter(|id| request.is_none_or(|r| r == *id))
                .collect();
            if ids.is_empty() {
                println!("Nothing waits for your signature.");
                return Ok(());
            }
            let mut failed = 0;
            for id in ids {
                match sign_one(&api, signer.as_ref(), &chain_pem, id, position).await {
                    Ok(status) => println!("{id}: signed ({status})"),
                    Err(e) => {
                        failed += 1;
                        eprintln!("{id}: not signed: {e:#}");
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} signature(s) not made");
            }
            Ok(())
        }
    }
}

async fn sign_one(
    api: &Api,
    key: &dyn RawSigner,
    chain_pem: &str,
    id: i64,
    position: Option<egov_app::signing::SignaturePosition>,
) -> Result<String> {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let to_sign = api
        .call(
            "POST",
            &format!("/api/v1/signatures/{id}/prepare"),
            Some(serde_json::json!({ "certificate_chain": chain_pem, "position": position })),
        )
        .await?;
    let dtbs = b64
        .decode(
            to_sign["data_to_be_signed"]
                .as_str()
                .context("no data to be signed")?,
        )
        .context("the data to be signed is not base64")?;
    let signature = key
        .sign(&dtbs)
        .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
    let verdict = api
        .call(
            "POST",
            &format!("/api/v1/signatures/{id}/complete"),
            Some(serde_json::json!({ "signature": b64.encode(signature) })),
        )
        .await?;
    Ok(verdict["status"].as_str().unwrap_or("?").to_owned())
}
