//! Sign-in: argon2 passwords, a TOTP second factor, sessions stored in the database, lock-out
//! after repeated failures.

use crate::Code;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use egov_store::Exec;
use egov_store::people::{self, Person, Session};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};
use totp_rs::{Secret, Totp};

use crate::{Actor, App, AppError, ErrorKind, audit};

/// Hashes a password with argon2id and a fresh salt.
pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))
}

/// Argon2 takes tens of milliseconds of CPU and 19 MiB of memory per check. Checks run on the
/// blocking thread pool (never on the async workers that serve other requests), at most one per
/// core at a time, so a burst of sign-ins queues instead of exhausting memory.
fn hashing_permits() -> &'static tokio::sync::Semaphore {
    static P: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let n = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2);
        tokio::sync::Semaphore::new(n)
    })
}

/// [`verify_password`] off the async workers, bounded by the number of cores.
pub async fn verify_password_blocking(password: &str, hash: &str) -> bool {
    let Ok(_permit) = hashing_permits().acquire().await else {
        return false;
    };
    let (p, h) = (password.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || verify_password(&p, &h))
        .await
        .unwrap_or(false)
}

/// [`hash_password`] off the async workers, bounded by the number of cores.
pub async fn hash_password_blocking(password: &str) -> Result<String, AppError> {
    let _permit = hashing_permits()
        .acquire()
        .await
        .map_err(|_| AppError::internal("the hashing pool is closed"))?;
    let p = password.to_owned();
    tokio::task::spawn_blocking(move || hash_password(&p))
        .await
        .map_err(|e| AppError::internal(format!("password hashing failed: {e}")))?
}

/// Checks a password against a stored hash; false for a wrong password or a bad hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The password rules: long enough to resist guessing, short enough to hash.
pub fn check_password_rules(password: &str) -> Result<(), AppError> {
    let n = password.chars().count();
    if n < 10 {
        return Err(AppError::invalid(
            Code::PasswordTooShort,
            "A password needs at least 10 characters.",
        )
        .arg("min", 10));
    }
    if n > 200 {
        return Err(AppError::invalid(
            Code::PasswordTooLong,
            "A password has at most 200 characters.",
        )
        .arg("max", 200));
    }
    Ok(())
}

/// A random token, URL-safe.
pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// What is stored for a session token: its SHA-256, so a database leak yields no usable cookie.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn totp_for(secret_b32: &str, account: &str) -> Result<Totp, AppError> {
    let secret = Secret::try_from_base32(secret_b32)
        .map_err(|_| AppError::internal("the stored TOTP secret is not valid base32"))?;
    totp_rs::Builder::new()
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some("egov"))
        .build()
        .map_err(|e| AppError::internal(format!("TOTP: {e}")))
}

/// The current code for a secret (used by tests and by `egov user totp`).
pub fn totp_code(secret_b32: &str, at: OffsetDateTime) -> Result<String, AppError> {
    Ok(totp_for(secret_b32, "x")?
        .generate(at.unix_timestamp() as u64)
        .to_string())
}

/// A signed-in session and the person it belongs to.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub session: Session,
    pub person: Person,
}

impl SignedIn {
    pub fn actor(&self) -> Actor {
        Actor::person(self.person.id, &self.person.username)
    }
}

/// The result of a correct password.
#[derive(Debug, Clone)]
pub struct SignInOutcome {
    /// The session token for the cookie (only its hash is stored).
    pub token: String,
    pub session: Session,
    /// The session waits for a TOTP code.
    pub needs_totp: bool,
    /// The person is an administrator without TOTP: they must set it up before going on.
    pub needs_totp_setup: bool,
}

/// What a TOTP set-up shows the person.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    pub secret: String,
    pub otpauth_url: String,
}

fn failed() -> AppError {
    AppError::new(
        ErrorKind::Unauthenticated,
        Code::SignInFailed,
        "The user name or password is wrong.",
    )
}

/// The audit action of the `n`th failed sign-in in a row: the one that locks the account is
/// recorded as the lock.
fn failure_action(n: i64, threshold: i64) -> &'static str {
    if n == threshold {
        "session.locked"
    } else {
        "session.sign_in_failed"
    }
}

fn locked(until: OffsetDateTime) -> AppError {
    let local = until.to_offset(egov_domain::VN_OFFSET);
    let hm = format!("{:02}:{:02}", local.hour(), local.minute());
    AppError::new(
        ErrorKind::TooMany,
        Code::AccountLocked,
        format!("Too many failed attempts: the account is locked until {hm}."),
    )
    .arg("until", hm)
}

impl App {
    /// Counts a sign-in attempt from the client address `client` and refuses it past
    /// `auth.sign_in_per_minute` attempts in the last minute (`too_many_sign_ins`). Counted in
    /// the database, so that the limit holds across every node behind a load balancer.
    pub async fn sign_in_attempt(&self, client: &str) -> Result<(), AppError> {
        let now = self.now();
        let n = egov_store::onestop::count_lookup(
            &mut &self.db,
            &format!("sign-in:{client}"),
            now,
            now - Duration::minutes(1),
        )
        .await?;
        if n > i64::from(self.settings.auth.sign_in_per_minute.max(1)) {
            return Err(AppError::new(
                crate::ErrorKind::TooMany,
                Code::TooManySignIns,
                "Too many sign-in attempts from your address. Wait a minute and try again.",
            ));
        }
        Ok(())
    }

    /// Checks a user name and password and opens a session.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        ip: &str,
        user_agent: &str,
    ) -> Result<SignInOutcome, AppError> {
        let now = self.now();
        let username = username.trim().to_lowercase();
        let lock_until = now + Duration::minutes(self.settings.auth.lockout_minutes);
        let threshold = self.settings.auth.lockout_threshold;
        let Some(creds) = people::credentials(&mut &self.db, &username).await? else {
            // A name that belongs to nobody is answered, counted and locked exactly as an
            // account is, so neither the answers nor their timing tell whether it exists.
            let name_hash = hex::encode(Sha256::digest(username.as_bytes()));
            let unknown = Actor::system("sign-in").with_request(Some(ip.into()), None);
            if let Some(until) = people::unknown_name_locked_until(&mut &self.db, &name_hash)
                .await?
                .filter(|u| *u > now)
            {
                self.audit_sign_in(
                    "session.sign_in_refused",
                    "unknown",
                    serde_json::json!({ "user_name_sha256": name_hash, "locked_until": until.to_string() }),
                    &unknown,
                )
                .await?;
                return Err(locked(until));
            }
            let _ = verify_password_blocking(password, dummy_hash()).await;
            let n = people::record_unknown_name_failure(
                &mut &self.db,
                &name_hash,
                threshold,
                lock_until,
            )
            .await?;
            self.audit_sign_in(
                failure_action(n, threshold),
                "unknown",
                serde_json::json!({ "user_name_sha256": name_hash, "failed_logins": n }),
                &unknown,
            )
            .await?;
            return Err(if n >= threshold {
                locked(lock_until)
            } else {
                failed()
            });
        };
        let who = Actor::person(creds.id, &creds.username).with_request(Some(ip.into()), None);
        if let Some(until) = creds.locked_until.filter(|u| *u > now) {
            self.audit_sign_in(
                "session.sign_in_refused",
                &creds.id.to_string(),
                serde_json::json!({ "locked_until": until.to_string() }),
                &who,
            )
            .await?;
            return Err(locked(until));
        }
        if !creds.active || !verify_password_blocking(password, &creds.password_hash).await {
            let n =
                people::record_failed_login(&mut &self.db, creds.id, threshold, lock_until).await?;
            self.audit_sign_in(
                failure_action(n, threshold),
                &creds.id.to_string(),
                serde_json::json!({ "failed_logins": n }),
                &who,
            )
            .await?;
            if n >= threshold {
                return Err(locked(lock_until));
            }
            return Err(failed());
        }
        let needs_totp = creds.totp_enabled;
        let needs_totp_setup = !needs_totp
            && self.settings.auth.require_totp_for_admins
            && self.is_administrator(creds.id).await?;
        let token = random_token(32);
        let csrf = random_token(24);
        let expires = now + Duration::hours(self.settings.auth.session_hours);
        let mut tx = self.db.begin().await?;
        people::reset_failed_logins(&mut tx, creds.id).await?;
        people::insert_session(
            &mut tx,
            &token_hash(&token),
            creds.id,
            &csrf,
            !(needs_totp || needs_totp_setup),
            now,
            expires,
            ip,
            &user_agent.chars().take(300).collect::<String>(),
        )
        .await?;
        audit::event("session.sign_in", "person", creds.id)
            .after(&serde_json::json!({ "second_factor_pending": needs_totp || needs_totp_setup }))
            .write(
                &mut tx,
                &Actor::person(creds.id, &creds.username).with_request(Some(ip.into()), None),
            )
            .await?;
        tx.commit().await?;
        let session = people::session(&mut &self.db, &token_hash(&token), now)
            .await?
            .ok_or_else(|| AppError::internal("the new session vanished"))?;
        Ok(SignInOutcome {
            token,
            session,
            needs_totp,
            needs_totp_setup,
        })
    }

    /// One audit entry about a sign-in, in its own transaction.
    async fn audit_sign_in(
        &self,
        action: &str,
        person: &str,
        detail: serde_json::Value,
        actor: &Actor,
    ) -> Result<(), AppError> {
        let mut tx = self.db.begin().await?;
        audit::event(action, "person", person)
            .after(&detail)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn is_administrator(&self, person_id: i64) -> Result<bool, AppError> {
        let n: i64 = (&self.db)
            .scalar(
                "SELECT COUNT(*) FROM role_grants WHERE person_id = $1 AND role = 'administrator' \
                 AND valid_from <= $2 AND (valid_to IS NULL OR valid_to > $2)",
                egov_store::args![person_id, self.now()],
            )
            .await?;
        Ok(n > 0)
    }

    /// The session for a cookie token, whether or not its second factor is done; its expiry
    /// slides forward with use.
    pub async fn session(&self, token: &str) -> Result<Option<SignedIn>, AppError> {
        let now = self.now();
        let hash = token_hash(token);
        let Some((session, person)) =
            people::session_with_person(&mut &self.db, &hash, now).await?
        else {
            return Ok(None);
        };
        if !person.active {
            return Ok(None);
        }
        if now - session.last_seen_at > Duration::minutes(1) {
            let expires = now + Duration::hours(self.settings.auth.session_hours);
            people::touch_session(&mut &self.db, &hash, now, expires).await?;
        }
        Ok(Some(SignedIn { session, person }))
    }

    /// Checks the second factor of a session waiting for it.
    pub async fn verify_totp(&self, token: &str, code: &str) -> Result<(), AppError> {
        let s = self.pending_session(token).await?;
        let creds = people::credentials_by_id(&mut &self.db, s.person.id).await?;
        let secret = creds
            .totp_secret
            .filter(|_| creds.totp_enabled)
            .ok_or_else(|| {
                AppError::conflict(
                    Code::TotpNotEnabled,
                    "This account has no second factor set up.",
                )
            })?;
        self.check_code(&s, &secret, code).await?;
        let mut tx = self.db.begin().await?;
        people::pass_mfa(&mut tx, &s.session.id_hash).await?;
        audit::event("session.second_factor", "person", s.person.id)
            .write(&mut tx, &s.actor())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn pending_session(&self, token: &str) -> Result<SignedIn, AppError> {
        self.session(token).await?.ok_or_else(|| {
            AppError::new(
                ErrorKind::Unauthenticated,
                Code::NotSignedIn,
                "Please sign in first.",
            )
        })
    }

    async fn check_code(&self, s: &SignedIn, secret: &str, code: &str) -> Result<(), AppError> {
        let totp = totp_for(secret, &s.person.username)?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let now = self.now();
        let step = totp.check(&code, now.unix_timestamp() as u64);
        let fresh = match step {
            Some(step) => people::use_totp_step(&mut &self.db, s.person.id, step as i64).await?,
            None => false,
        };
        if fresh {
            return Ok(());
        }
        let lock_until = now + Duration::minutes(self.settings.auth.lockout_minutes);
        let threshold = self.settings.auth.lockout_threshold;
        let n =
            people::record_failed_login(&mut &self.db, s.person.id, threshold, lock_until).await?;
        let action = if n >= threshold {
            "session.locked"
        } else {
            "session.second_factor_failed"
        };
        self.audit_sign_in(
            action,
            &s.person.id.to_string(),
            serde_json::json!({ "failed_logins": n, "second_factor": true }),
            &s.actor(),
        )
        .await?;
        if n >= threshold {
            people::delete_session(&mut &self.db, &s.session.id_hash).await?;
            return Err(locked(lock_until));
        }
        Err(AppError::invalid(
            Code::TotpWrong,
            "The code is wrong or was already used.",
        ))
    }

    /// Starts (or restarts) TOTP set-up for the signed-in person: a new secret, not yet active.
    pub async fn begin_totp_setup(&self, token: &str) -> Result<TotpSetup, AppError> {
        let s = self.pending_session(token).await?;
        let creds = people::credentials_by_id(&mut &self.db, s.person.id).await?;
        if creds.totp_enabled && !s.session.mfa_passed {
            return Err(AppError::forbidden());
        }
        let secret = Secret::generate().to_base32();
        people::set_totp(&mut &self.db, s.person.id, Some(&secret), false, self.now()).await?;
        let url = totp_for(&secret, &s.person.username)?
            .to_url()
            .map_err(|e| AppError::internal(format!("TOTP URL: {e}")))?;
        Ok(TotpSetup {
            secret,
            otpauth_url: url,
        })
    }

    /// Confirms TOTP set-up with a first code; the session then counts as fully signed in.
    pub async fn confirm_totp_setup(&self, token: &str, code: &str) -> Result<(), AppError> {
        let s = self.pending_session(token).await?;
        let creds = people::credentials_by_id(&mut &self.db, s.person.id).await?;
        if creds.totp_enabled {
            return Err(AppError::conflict(
                Code::TotpAlreadyEnabled,
                "The second factor is already set up.",
            ));
        }
        let secret = creds.totp_secret.ok_or_else(|| {
            AppError::conflict(Code::TotpSetupNotStarted, "Start the set-up again.")
        })?;
        self.check_code(&s, &secret, code).await?;
        let mut tx = self.db.begin().await?;
        people::set_totp(&mut tx, s.person.id, Some(&secret), true, self.now()).await?;
        people::pass_mfa(&mut tx, &s.session.id_hash).await?;
        audit::event("person.totp_enabled", "person", s.person.id)
            .write(&mut tx, &s.actor())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), AppError> {
        let hash = token_hash(token);
        let Some(s) = people::session(&mut &self.db, &hash, self.now()).await? else {
            return Ok(());
        };
        let person = people::get(&mut &self.db, s.person_id).await?;
        let mut tx = self.db.begin().await?;
        people::delete_session(&mut tx, &hash).await?;
        audit::event("session.sign_out", "person", s.person_id)
            .write(&mut tx, &Actor::person(person.id, person.username))
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// A valid argon2 hash of a random string, checked when the user name does not exist.
fn dummy_hash() -> &'static str {
    static H: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    H.get_or_init(|| hash_password(&random_token(16)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords() {
        let h = hash_password("mật khẩu đủ dài").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("mật khẩu đủ dài", &h));
        assert!(!verify_password("mat khau du dai", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_rules("short").is_err());
        assert!(check_password_rules("long enough!").is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = random_token(32);
        assert_ne!(a, random_token(32));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }

    #[test]
    fn totp_codes() {
        let secret = Secret::generate().to_base32();
        let t = OffsetDateTime::now_utc();
        let code = totp_code(&secret, t).unwrap();
        assert_eq!(code.len(), 6);
        let totp = totp_for(&secret, "a").unwrap();
        assert!(totp.check(&code, t.unix_timestamp() as u64).is_some());
        assert!(totp.check(&code, t.unix_timestamp() as u64 + 600).is_none());
    }
}
