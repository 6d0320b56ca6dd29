//! Configuration. One file (TOML) plus environment overrides `EGOV__SECTION__KEY`; every key has
//! a default, documented in `docs/configuration.md`.

use std::path::PathBuf;

use egov_domain::agency_code::{IdentifierScheme, SlotRange};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Where the SQLite database, blobs and demo credentials live.
    pub data_dir: PathBuf,
    pub server: Server,
    pub database: Database,
    pub auth: Auth,
    pub identifiers: Identifiers,
    pub worker: Worker,
    pub log: Log,
    pub onestop: Onestop,
    pub documents: Documents,
    pub signatures: Signatures,
    pub limits: Limits,
    pub audit: Audit,
    pub national_portal: NationalPortal,
    pub exchange: Exchange,
    pub scorecard: Scorecard,
    pub blobs: BlobSettings,
}

/// Where files (scans, drafts, signed documents, attachments, packets) are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlobSettings {
    /// `local`: under `<data_dir>/blobs` (one node, or a shared file system); `s3`: in an
    /// S3-compatible bucket (several nodes).
    pub store: String,
    pub s3: S3Settings,
}

impl Default for BlobSettings {
    fn default() -> Self {
        BlobSettings {
            store: "local".into(),
            s3: S3Settings::default(),
        }
    }
}

/// An S3-compatible bucket (`blobs.store = "s3"`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Settings {
    /// `https://s3.example.vn`, or `http://127.0.0.1:8333` for a server on the same network;
    /// empty: Amazon's endpoint for the region.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    /// Path-style addressing (`endpoint/bucket/key`), what most S3-compatible servers expect;
    /// false: virtual-host style (`bucket.endpoint/key`).
    pub path_style: bool,
    /// Keys go under this prefix (`egov/`), so that one bucket can serve several uses.
    pub prefix: String,
    /// Credentials. Better from the environment (`EGOV__BLOBS__S3__SECRET_ACCESS_KEY`, or
    /// the usual `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY`) or from `credentials_file`.
    pub access_key_id: String,
    pub secret_access_key: String,
    /// A file in the shared-credentials form (`aws_access_key_id = …`,
    /// `aws_secret_access_key = …`, `aws_session_token = …`), relative to the data directory;
    /// read again when it changes, so credentials that expire can be renewed in place.
    pub credentials_file: String,
    /// Seconds a request to the bucket may take.
    pub timeout_secs: u64,
}

impl Default for S3Settings {
    fn default() -> Self {
        S3Settings {
            endpoint: String::new(),
            bucket: String::new(),
            region: "us-east-1".into(),
            path_style: true,
            prefix: String::new(),
            access_key_id: String::new(),
            secret_access_key: String::new(),
            credentials_file: String::new(),
            timeout_secs: 60,
        }
    }
}

/// The Decision 766 scorecard (`docs/scorecard.md`): the rules of its counts that the national
/// portal's description gives as numbers, kept here to be corrected without a release.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Scorecard {
    /// The longest period a scorecard is computed for, in days.
    pub max_days: u32,
    /// A province announces a procedure on time when its decision is issued at least this many
    /// working days before the legal text takes effect (1.1).
    pub announce_days: u32,
    /// … and publishes it on time within this many working days of the decision (1.2).
    pub publish_days: u32,
    /// Feedback is handled on time within this many working days of being sent (5.2).
    pub feedback_days: u32,
}

impl Default for Scorecard {
    fn default() -> Self {
        Scorecard {
            max_days: 366,
            announce_days: 5,
            publish_days: 5,
            feedback_days: 15,
        }
    }
}

/// The document exchange with systems outside egov (`docs/exchange.md`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Exchange {
    /// Send issued documents to outside recipients through the hub (the `exchange.send` jobs).
    pub enabled: bool,
    /// The national document exchange hub (or `egov exchange hub`).
    pub hub: crate::exchange::transport::HubConfig,
    /// Provincial LGSPs by route name (`[exchange.lgsp.<name>]`): the directory names which
    /// route reaches an agency.
    pub lgsp: std::collections::BTreeMap<String, crate::exchange::lgsp::LgspConfig>,
    /// How often the worker asks the hub what waits for our agencies (seconds).
    pub poll_seconds: u64,
    /// A received document whose PDF signature is invalid: `refuse` (returned with status 02,
    /// as Decree 30 wants) or `register` (filed, the verdict beside the file).
    pub invalid_signature: String,
    /// How often the worker fetches the hub's directory of connected agencies (hours; also
    /// when it starts).
    pub directory_hours: u64,
    /// Attempts of a packet's send before it is a dead letter for an operator: the back-off
    /// doubles from 10 s to an hour, so 40 attempts ride out a hub down for about 31 hours
    /// (the hub answering again sends what waits at once).
    pub max_attempts: i64,
}

impl Default for Exchange {
    fn default() -> Self {
        Exchange {
            enabled: false,
            hub: Default::default(),
            lgsp: Default::default(),
            poll_seconds: 30,
            invalid_signature: "refuse".into(),
            directory_hours: 24,
            max_attempts: 40,
        }
    }
}

/// The audit log's evidence outside the database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Audit {
    /// The key of the entries' MACs and the chain's links (relative: under the data
    /// directory). Created on first start; every process of a deployment needs the same file,
    /// and a restore on another machine needs a copy. Never in the database or its backup.
    pub key_file: PathBuf,
    /// Where checkpoints of the chain's head are appended, one JSON line each (relative: under
    /// the data directory). Keep a copy elsewhere too (log shipping, the backup's log).
    pub checkpoint_file: PathBuf,
    /// Minutes between the checkpoints a running server writes (and one at shutdown).
    pub checkpoint_minutes: u64,
}

impl Default for Audit {
    fn default() -> Self {
        Audit {
            key_file: PathBuf::from("audit.key"),
            checkpoint_file: PathBuf::from("audit-checkpoints.jsonl"),
            checkpoint_minutes: 5,
        }
    }
}

/// Bounds on the work one input may cause.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// A PDF declaring more objects than this (written, or in object streams) is refused
    /// before it is parsed.
    pub pdf_max_objects: usize,
    /// A PDF with more page objects than this is refused before it is parsed.
    pub pdf_max_pages: usize,
    /// The most any one stream of a PDF may decompress to, in bytes.
    pub pdf_max_stream_bytes: usize,
    /// PDFs parsed at once (signature verification, text extraction); others wait their turn.
    /// 0: one per core.
    pub pdf_concurrency: usize,
}

impl Default for Limits {
    fn default() -> Self {
        let pki = egov_pki::Limits::default();
        Limits {
            pdf_max_objects: pki.max_objects,
            pdf_max_pages: pki.max_pages,
            pdf_max_stream_bytes: pki.max_stream_bytes,
            pdf_concurrency: 0,
        }
    }
}

impl Limits {
    pub fn pdf(&self) -> egov_pki::Limits {
        egov_pki::Limits {
            max_objects: self.pdf_max_objects,
            max_pages: self.pdf_max_pages,
            max_stream_bytes: self.pdf_max_stream_bytes,
        }
    }

    /// PDFs parsed at once.
    pub fn pdf_permits(&self) -> usize {
        match self.pdf_concurrency {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        }
    }
}

/// Reporting to the National Public Service Portal (DVCQG): see `docs/national-portal.md`.
/// Everything the portal may name differently is here, so that an operator corrects it
/// without a release.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NationalPortal {
    /// Report every dossier and step of the agencies in scope.
    pub enabled: bool,
    /// The portal's adapter (or the province's gateway to it), `http://…`; its services are
    /// posted to `{url}{service_path}`.
    pub url: String,
    /// `session` (username and password → `session`) or `token` (client id and secret →
    /// `access_token`).
    pub auth: String,
    pub login_path: String,
    pub token_path: String,
    pub service_path: String,
    pub username: String,
    pub password: String,
    pub client_id: String,
    pub client_secret: String,
    /// The agencies reported (their identifiers, `000.00.23.H56`); empty: every agency.
    pub agencies: Vec<String>,
    /// The service names: `record` (DongBoHoSoMC), `progress` (CapNhatTienDoHoSoMC),
    /// `lookup` (TraCuuHoSo).
    pub services: NationalServices,
    /// How each service writes dates: `compact` (yyyyMMddHHmmss, Vietnam's time) or `iso8601`.
    pub record_dates: egov_domain::national::DateStyle,
    pub progress_dates: egov_domain::national::DateStyle,
    /// egov's states → national status (1–10); every state must be mapped. Empty: the table
    /// of `docs/national-portal.md`.
    pub statuses: std::collections::BTreeMap<String, u8>,
    /// egov's code of a procedure the province defined → the national catalogue's code it is
    /// reported under. A dossier whose procedure has no national code is not sent: it is
    /// listed as refused (`no_national_code`) until mapped here and retried.
    pub procedure_codes: std::collections::BTreeMap<String, String>,
    /// Seconds a call may take before its answer counts as lost.
    pub timeout_seconds: u64,
    /// Calls per round of the worker.
    pub batch: i64,
    /// Calls in flight at once (to different dossiers; one dossier's entries go one by one).
    pub concurrency: usize,
    /// Take in the dossiers citizens submit on the portal for the agencies in scope.
    pub intake: bool,
    /// The identifier of the agency whose one-stop counters receive departments' online
    /// dossiers (the province's public administration centre); empty: each department's own.
    pub department_centre: String,
    /// Submissions asked for per pull.
    pub intake_page: i64,
    /// Where a submission's file is fetched: `{url}{file_path}/{file id}`.
    pub file_path: String,
    /// How submissions write dates.
    pub intake_dates: egov_domain::national::DateStyle,
    /// Seconds a submission's file may take to arrive.
    pub download_timeout_seconds: u64,
    /// The field names of a submission (assumed: no public interface exists).
    pub fields: SubmissionFields,
}

/// The field names of a submission pulled from the portal, as an operator can correct them.
/// The defaults are the 2026 variant's names (docs/national-portal.md, "Taking dossiers in").
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SubmissionFields {
    pub request_agencies: String,
    pub request_cursor: String,
    pub request_size: String,
    pub next_cursor: String,
    pub code: String,
    /// Present on an applicant's supplement to a dossier already submitted (its id).
    pub supplement: String,
    pub procedure: String,
    pub agency: String,
    pub submitted_at: String,
    pub subject: String,
    pub eid_verified: String,
    pub paid_online: String,
    pub applicant: String,
    pub applicant_kind: String,
    pub applicant_name: String,
    pub applicant_identifier: String,
    pub applicant_birth_date: String,
    pub applicant_phone: String,
    pub applicant_email: String,
    pub applicant_address: String,
    pub components: String,
    pub component_code: String,
    pub files: String,
    pub file_id: String,
    pub file_name: String,
    pub file_hash: String,
    pub fees: String,
    pub fee_code: String,
    pub fee_amount: String,
    pub fee_paid: String,
    pub form: String,
    pub rating_score: String,
    pub rating_comment: String,
    pub rated_at: String,
    pub feedback_id: String,
    pub feedback_agency: String,
    pub feedback_content: String,
    pub feedback_sent_at: String,
    pub feedback_handled_at: String,
    /// How the portal classified the feedback (indicator 5.1; empty: not yet).
    pub feedback_category: String,
    /// Whether the citizen was satisfied with its handling: 1 or 0 (indicator 5.3).
    pub feedback_satisfied: String,
}

impl Default for SubmissionFields {
    fn default() -> Self {
        let s = |v: &str| v.to_owned();
        SubmissionFields {
            request_agencies: s("DanhSachMaDonVi"),
            request_cursor: s("ViTri"),
            request_size: s("SoLuong"),
            next_cursor: s("ViTriTiepTheo"),
            code: s("MaHoSo"),
            supplement: s("MaBoSung"),
            procedure: s("MaTTHC"),
            agency: s("MaDonViTiepNhan"),
            submitted_at: s("NgayNop"),
            subject: s("TrichYeu"),
            eid_verified: s("TaiKhoanDuocXacThucVoiVNeID"),
            paid_online: s("DuocThanhToanTrucTuyen"),
            applicant: s("ThongTinNguoiNop"),
            applicant_kind: s("LoaiDoiTuong"),
            applicant_name: s("HoVaTen"),
            applicant_identifier: s("SoDinhDanh"),
            applicant_birth_date: s("NgaySinh"),
            applicant_phone: s("SoDienThoai"),
            applicant_email: s("Email"),
            applicant_address: s("DiaChi"),
            components: s("ThanhPhanHoSo"),
            component_code: s("MaThanhPhanHoSo"),
            files: s("GiayToDinhKem"),
            file_id: s("IdGiayTo"),
            file_name: s("TenGiayTo"),
            file_hash: s("HashTepTin"),
            fees: s("DanhSachLePhi"),
            fee_code: s("MaPhiLePhi"),
            fee_amount: s("SoTien"),
            fee_paid: s("DaThanhToan"),
            form: s("DuLieuBieuMau"),
            rating_score: s("DiemDanhGia"),
            rating_comment: s("NoiDungDanhGia"),
            rated_at: s("NgayDanhGia"),
            feedback_id: s("MaPhanAnh"),
            feedback_agency: s("MaDonVi"),
            feedback_content: s("NoiDung"),
            feedback_sent_at: s("NgayGui"),
            feedback_handled_at: s("NgayXuLy"),
            feedback_category: s("PhanLoai"),
            feedback_satisfied: s("HaiLong"),
        }
    }
}

/// The names of the portal's services.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NationalServices {
    pub record: String,
    pub progress: String,
    pub lookup: String,
    /// New submissions for the agencies in scope (assumed name).
    pub submissions: String,
    /// Citizens' ratings of dossiers (assumed name).
    pub ratings: String,
    /// Citizens' feedback about agencies and procedures (assumed name).
    pub feedback: String,
}

impl Default for NationalServices {
    fn default() -> Self {
        NationalServices {
            record: "DongBoHoSoMC".into(),
            progress: "CapNhatTienDoHoSoMC".into(),
            lookup: "TraCuuHoSo".into(),
            submissions: "LayDanhSachHoSoMoi".into(),
            ratings: "LayDanhGiaHoSo".into(),
            feedback: "LayPhanAnhKienNghi".into(),
        }
    }
}

impl Default for NationalPortal {
    fn default() -> Self {
        NationalPortal {
            enabled: false,
            url: String::new(),
            auth: "session".into(),
            login_path: "/login".into(),
            token_path: "/token".into(),
            service_path: "/service".into(),
            username: String::new(),
            password: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            agencies: Vec::new(),
            services: NationalServices::default(),
            record_dates: egov_domain::national::DateStyle::Compact,
            progress_dates: egov_domain::national::DateStyle::Compact,
            statuses: std::collections::BTreeMap::new(),
            procedure_codes: std::collections::BTreeMap::new(),
            timeout_seconds: 20,
            batch: 200,
            concurrency: 4,
            intake: false,
            department_centre: String::new(),
            intake_page: 50,
            file_path: "/files".into(),
            intake_dates: egov_domain::national::DateStyle::Compact,
            download_timeout_seconds: 300,
            fields: SubmissionFields::default(),
        }
    }
}

impl NationalPortal {
    /// The status map in force: the configured one, or the default table.
    pub fn status_map(&self) -> Result<egov_domain::national::StatusMap, String> {
        let map = if self.statuses.is_empty() {
            egov_domain::national::StatusMap::default()
        } else {
            serde_json::from_value(serde_json::to_value(&self.statuses).map_err(|e| e.to_string())?)
                .map_err(|e| e.to_string())?
        };
        map.validate()
            .map_err(|e| format!("national_portal.statuses: {e}"))?;
        Ok(map)
    }

    /// The code a procedure is reported under: its mapped national code, or its own.
    pub fn procedure_code<'a>(&'a self, code: &'a str) -> &'a str {
        self.procedure_codes.get(code).map_or(code, String::as_str)
    }

    fn validate(&self) -> Result<(), String> {
        self.status_map()?;
        for (ours, national) in &self.procedure_codes {
            if !egov_domain::national::is_procedure_code(national) {
                return Err(format!(
                    "national_portal.procedure_codes {ours:?} = {national:?}: a national code is a digit, a dot and six digits (1.001234)"
                ));
            }
        }
        if self.intake && !self.enabled {
            return Err("national_portal.intake needs national_portal.enabled".into());
        }
        if !self.enabled {
            return Ok(());
        }
        if !self.url.starts_with("http://") {
            return Err(
                "national_portal.url must be an http:// address (the portal's adapter or the province's gateway to it)"
                    .into(),
            );
        }
        match self.auth.as_str() {
            "session" if self.username.is_empty() || self.password.is_empty() => {
                Err("national_portal: auth = \"session\" needs username and password".into())
            }
            "token" if self.client_id.is_empty() || self.client_secret.is_empty() => {
                Err("national_portal: auth = \"token\" needs client_id and client_secret".into())
            }
            "session" | "token" => Ok(()),
            other => Err(format!(
                "national_portal.auth {other:?}: it is \"session\" or \"token\""
            )),
        }?;
        if !(1..=600).contains(&self.timeout_seconds)
            || !(1..=10_000).contains(&self.batch)
            || !(1..=64).contains(&self.concurrency)
            || !(1..=500).contains(&self.intake_page)
            || !(1..=86_400).contains(&self.download_timeout_seconds)
        {
            return Err(
                "national_portal: timeout_seconds between 1 and 600, batch between 1 and 10000, concurrency between 1 and 64, intake_page between 1 and 500, download_timeout_seconds between 1 and 86400"
                    .into(),
            );
        }
        for code in &self.agencies {
            code.parse::<egov_domain::agency_code::AgencyCode>()
                .map_err(|e| format!("national_portal.agencies {code:?}: {e}"))?;
        }
        if !self.department_centre.is_empty() {
            self.department_centre
                .parse::<egov_domain::agency_code::AgencyCode>()
                .map_err(|e| format!("national_portal.department_centre: {e}"))?;
        }
        Ok(())
    }
}

/// Documents and work records.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Documents {
    /// An incoming document being handled is "due soon" this many hours before its deadline:
    /// its handlers are reminded then, and again once it is overdue.
    pub remind_hours_before: i64,
    /// Where each reminder is also posted as JSON (an SMS or e-mail gateway of the province),
    /// through the job outbox with retries; none by default.
    pub reminder_url: Option<String>,
    /// The LibreOffice program that turns .docx and .odt drafts into PDF: a path, or a command
    /// looked up on `PATH`. Drafts are not converted when it is empty or not installed.
    pub libreoffice: String,
    /// The tesseract program (with Vietnamese, `tesseract-ocr-vie`) that reads scans without a
    /// text layer for search, in the background; scans are not read when it is empty or not
    /// installed.
    pub tesseract: String,
}

impl Default for Documents {
    fn default() -> Self {
        Documents {
            remind_hours_before: 24,
            reminder_url: None,
            libreoffice: "soffice".into(),
            tesseract: "tesseract".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Server {
    pub listen: String,
    /// The address people use, for links in messages and the QR codes of receipts. Empty (the
    /// default): `http://` and the listen address (`127.0.0.1` for an unspecified host).
    pub public_url: String,
    /// Mark cookies `Secure`. Always on when `public_url` is `https://`.
    pub secure_cookies: bool,
    pub max_body_bytes: usize,
    /// Largest upload (a scanned dossier component, a counter form with its scans).
    pub max_upload_bytes: usize,
    pub request_timeout_secs: u64,
    /// Where Prometheus reads `/metrics`: a separate listen address (`127.0.0.1:9464`) that
    /// serves nothing else. Empty: not served apart.
    pub metrics_listen: String,
    /// A bearer token that opens `/metrics` on the main address (`Authorization: Bearer …`);
    /// empty: `/metrics` is not served there at all. Better from the environment
    /// (`EGOV__SERVER__METRICS_TOKEN`) than in the file.
    pub metrics_token: String,
    /// On a shutdown signal, report not ready (`/readyz`) for this many seconds before no
    /// longer accepting connections, so that a load balancer's next probe sends requests
    /// elsewhere first; requests in flight then finish. 0: stop accepting at once.
    pub drain_secs: u64,
    /// Addresses of the load balancers in front (`["10.0.0.5"]`): from them, the client's
    /// address is read from `X-Forwarded-For` (rate limits, audit). Empty: the peer's address.
    pub trusted_proxies: Vec<String>,
    /// How far this node's clock may differ from the database's (PostgreSQL) before the node
    /// reports itself not ready and pauses its background work: leases and deadlines are
    /// written by each node's clock.
    pub max_clock_skew_secs: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Database {
    /// Empty: `<data_dir>/egov.sqlite`. Or `sqlite:///path/file.sqlite`, or `postgres://…`.
    pub url: String,
    /// Connection pool size; 0 chooses: two per core on SQLite (one writer at a time, and
    /// every further connection is another thread whose page cache each write invalidates),
    /// 16 on PostgreSQL.
    pub max_connections: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Auth {
    pub session_hours: i64,
    /// Failed sign-ins in a row before an account is locked.
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    /// Sign-in attempts per minute from one client address.
    pub sign_in_per_minute: u32,
    /// Administrators must use a TOTP second factor.
    pub require_totp_for_admins: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Identifiers {
    /// Level-2 slots for departments and province-level bodies, `"01-59"`.
    pub department_slots: String,
    /// Level-2 slots for district People's Committees (three-tier structure).
    pub district_slots: String,
    /// Level-2 group slots for two-tier communes (99 communes per slot).
    pub commune_group_slots: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Worker {
    /// Run a worker loop inside `egov serve` (a scaled deployment runs `egov worker` instead).
    pub enabled: bool,
    pub poll_ms: u64,
    pub lease_secs: i64,
    pub max_attempts: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Onestop {
    /// Dossier code format: `{agency}` (the receiving agency's identifier), `{yymmdd}` or
    /// `{yyyymmdd}` (the Vietnam day of receipt), `{seq}` or `{seq:N}` (the daily sequence, at
    /// least N digits). The sequence restarts each day per receiving agency, so the agency, a
    /// day and the sequence must all appear.
    pub code_format: String,
    /// Public status look-ups allowed per client address in the window.
    pub lookup_per_address: i64,
    /// Public status look-ups allowed per dossier code in the window.
    pub lookup_per_code: i64,
    pub lookup_window_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Log {
    /// `text` or `json`.
    pub format: String,
    /// A tracing filter such as `info` or `egov=debug,sqlx=warn`.
    pub level: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            data_dir: PathBuf::from("egov-data"),
            server: Server::default(),
            database: Database::default(),
            auth: Auth::default(),
            identifiers: Identifiers::default(),
            worker: Worker::default(),
            log: Log::default(),
            onestop: Onestop::default(),
            documents: Documents::default(),
            signatures: Signatures::default(),
            limits: Limits::default(),
            audit: Audit::default(),
            national_portal: NationalPortal::default(),
            exchange: Exchange::default(),
            scorecard: Scorecard::default(),
            blobs: BlobSettings::default(),
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            secure_cookies: false,
            max_body_bytes: 1 << 20,
            max_upload_bytes: 20 << 20,
            request_timeout_secs: 30,
            metrics_listen: String::new(),
            metrics_token: String::new(),
            drain_secs: 0,
            trusted_proxies: Vec::new(),
            max_clock_skew_secs: 30,
        }
    }
}

impl Default for Auth {
    fn default() -> Self {
        Auth {
            session_hours: 8,
            lockout_threshold: 5,
            lockout_minutes: 15,
            sign_in_per_minute: 10,
            require_totp_for_admins: true,
        }
    }
}

impl Default for Identifiers {
    fn default() -> Self {
        Identifiers {
            department_slots: "01-59".into(),
            district_slots: "60-89".into(),
            commune_group_slots: "90-99".into(),
        }
    }
}

impl Default for Worker {
    fn default() -> Self {
        Worker {
            enabled: true,
            poll_ms: 1000,
            lease_secs: 60,
            max_attempts: 8,
        }
    }
}

/// What signature verification trusts. Paths are PEM files (CRLs PEM or DER); relative paths are
/// under the data directory.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Signatures {
    /// Roots of the Government Cipher Committee's specialised public-service CA.
    pub trust_gcc: Vec<PathBuf>,
    /// Roots of the licensed public CAs (Decree 23/2025).
    pub trust_public: Vec<PathBuf>,
    /// Intermediate CA certificates, for signatures that do not carry their chain.
    pub intermediates: Vec<PathBuf>,
    /// Revocation lists, refreshed by the operator (or a scheduled download).
    pub crls: Vec<PathBuf>,
    /// A certificate without a current CRL from its issuer makes a signature indeterminate.
    pub require_revocation: bool,
    /// The competent person's digital signature at sign-off: `required` (the records office
    /// cannot issue until it is made), `optional` (asked for; issuing does not wait) or `off`.
    pub leader_signature: LeaderSignature,
    /// Where the key-encryption key of file keystores comes from: a file (relative: under the
    /// data directory) …
    pub kek_file: Option<PathBuf>,
    /// … or an environment variable (default `EGOV_KEK`). Never the database.
    pub kek_env: String,
    /// The agencies' seal keys, applied by the records office at issue.
    pub seals: Vec<Seal>,
    /// An RFC 3161 time-stamp authority (`http://…`): when set, signatures made through egov
    /// are time-stamped (PAdES B-T).
    pub tsa_url: Option<String>,
}

impl Default for Signatures {
    fn default() -> Self {
        Signatures {
            trust_gcc: Vec::new(),
            trust_public: Vec::new(),
            intermediates: Vec::new(),
            crls: Vec::new(),
            require_revocation: false,
            leader_signature: LeaderSignature::Optional,
            kek_file: None,
            kek_env: "EGOV_KEK".into(),
            seals: Vec::new(),
            tsa_url: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaderSignature {
    Required,
    Optional,
    Off,
}

/// An agency's seal key: a certificate chain (PEM, the seal's certificate first) and either an
/// encrypted PKCS#8 key file (under the key-encryption key) or a key in an HSM reached through
/// PKCS#11.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seal {
    /// The agency's identifier (`000.00.00.H56` …).
    pub agency: String,
    pub certificate: PathBuf,
    #[serde(default)]
    pub key: Option<PathBuf>,
    #[serde(default)]
    pub pkcs11_module: Option<PathBuf>,
    #[serde(default)]
    pub token_label: Option<String>,
    #[serde(default)]
    pub key_label: Option<String>,
    /// The environment variable holding the HSM user PIN.
    #[serde(default)]
    pub pin_env: Option<String>,
}

impl Default for Onestop {
    fn default() -> Self {
        Onestop {
            code_format: egov_domain::onestop::code::DEFAULT_FORMAT.into(),
            lookup_per_address: 20,
            lookup_per_code: 8,
            lookup_window_minutes: 15,
        }
    }
}

impl Default for Log {
    fn default() -> Self {
        Log {
            format: "text".into(),
            level: "info".into(),
        }
    }
}

fn slots(s: &str) -> Result<SlotRange, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?}: expected a range like 01-59"))?;
    let first = a
        .trim()
        .parse::<u8>()
        .map_err(|_| format!("{s:?}: not a number"))?;
    let last = b
        .trim()
        .parse::<u8>()
        .map_err(|_| format!("{s:?}: not a number"))?;
    Ok(SlotRange { first, last })
}

/// The settings file in a data directory (written by `egov demo`), read by every command run
/// against that directory beneath the configuration file and the environment.
pub const DATA_DIR_SETTINGS: &str = "settings.toml";

impl Server {
    /// The address people use: `public_url`, or one derived from the listen address.
    pub fn public_url(&self) -> String {
        let url = self.public_url.trim().trim_end_matches('/');
        if !url.is_empty() {
            return url.to_owned();
        }
        let listen = self.listen.trim();
        let (host, port) = match listen.rsplit_once(':') {
            Some((h, p)) => (h, p),
            None => (listen, "80"),
        };
        let host = match host {
            "" | "0.0.0.0" | "[::]" | "::" => "127.0.0.1",
            h => h,
        };
        format!("http://{host}:{port}")
    }

    /// Whether cookies are marked `Secure`: configured, or implied by an `https://` public URL.
    pub fn cookies_secure(&self) -> bool {
        // An address derived from the listen address is http: only a configured one is https.
        self.secure_cookies || self.public_url.trim().starts_with("https://")
    }
}

impl Settings {
    /// The database URL, defaulting to the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        if self.database.url.trim().is_empty() {
            self.data_dir.join("egov.sqlite").display().to_string()
        } else {
            self.database.url.clone()
        }
    }

    /// The connection pool size (see [`Database::max_connections`]).
    pub fn pool_size(&self) -> u32 {
        let url = self.database_url();
        match self.database.max_connections {
            0 if url.starts_with("postgres://") || url.starts_with("postgresql://") => 16,
            0 => std::thread::available_parallelism().map_or(2, |n| n.get() as u32) * 2,
            n => n,
        }
    }

    /// A path of the settings, relative ones under the data directory.
    pub fn in_data_dir(&self, p: &std::path::Path) -> PathBuf {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.data_dir.join(p)
        }
    }

    pub fn blob_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// The blob store the settings name (see [`BlobSettings`]).
    pub fn blob_store(&self) -> Result<egov_store::blobs::Blobs, String> {
        use egov_store::blobs::{BlobStore, Blobs};
        match self.blobs.store.as_str() {
            "local" => Ok(Blobs::Local(BlobStore::new(self.blob_dir()))),
            "s3" => {
                let s = &self.blobs.s3;
                let credentials_file = Some(s.credentials_file.trim())
                    .filter(|f| !f.is_empty())
                    .map(|f| self.in_data_dir(std::path::Path::new(f)));
                let bucket = egov_store::objects::S3Blobs::new(&egov_store::objects::S3Config {
                    endpoint: s.endpoint.clone(),
                    bucket: s.bucket.clone(),
                    region: s.region.clone(),
                    path_style: s.path_style,
                    prefix: s.prefix.clone(),
                    access_key_id: s.access_key_id.clone(),
                    secret_access_key: s.secret_access_key.clone(),
                    credentials_file,
                    timeout_secs: s.timeout_secs,
                })
                .map_err(|e| format!("blobs.s3: {e}"))?;
                Ok(Blobs::S3 {
                    bucket,
                    staging: BlobStore::new(self.data_dir.join("blob-staging")),
                })
            }
            other => Err(format!("blobs.store {other:?}: local or s3")),
        }
    }

    /// The identifier scheme, validated.
    pub fn scheme(&self) -> Result<IdentifierScheme, String> {
        let s = IdentifierScheme {
            departments: slots(&self.identifiers.department_slots)?,
            districts: slots(&self.identifiers.district_slots)?,
            commune_groups: slots(&self.identifiers.commune_group_slots)?,
        };
        s.validate().map_err(|e| e.to_string())?;
        Ok(s)
    }

    /// Checks what cannot be checked by the types: the identifier scheme and the one-stop keys.
    pub fn validate(&self) -> Result<(), String> {
        self.scheme().map_err(|e| format!("identifiers: {e}"))?;
        self.blob_store()?;
        let x = &self.exchange;
        if !matches!(x.invalid_signature.as_str(), "refuse" | "register") {
            return Err(format!(
                "exchange.invalid_signature {:?}: refuse or register",
                x.invalid_signature
            ));
        }
        if x.enabled
            && (!x.hub.url.starts_with("http://")
                || x.hub.system_id.is_empty()
                || x.hub.secret.is_empty())
        {
            return Err(
                "exchange.enabled needs exchange.hub.url (http://…), exchange.hub.system_id and exchange.hub.secret"
                    .into(),
            );
        }
        let f = &self.onestop.code_format;
        let has = |t: &str| f.contains(t);
        if !has("{agency}")
            || !(has("{yymmdd}") || has("{yyyymmdd}"))
            || !(has("{seq}") || has("{seq:"))
        {
            return Err(format!(
                "onestop.code_format {f:?}: it must contain {{agency}}, {{yymmdd}} or {{yyyymmdd}}, and {{seq}} or {{seq:N}}"
            ));
        }
        let d = &self.documents;
        if !(1..=24 * 30).contains(&d.remind_hours_before) {
            return Err("documents.remind_hours_before must be between 1 and 720".into());
        }
        if d.reminder_url
            .as_deref()
            .is_some_and(|u| !u.starts_with("http://"))
        {
            return Err(
                "documents.reminder_url must be an http:// address (a gateway inside the network)"
                    .into(),
            );
        }
        let l = &self.limits;
        if l.pdf_max_objects < 100 || l.pdf_max_pages < 1 || l.pdf_max_stream_bytes < (1 << 20) {
            return Err(
                "limits: pdf_max_objects at least 100, pdf_max_pages at least 1, pdf_max_stream_bytes at least 1 MiB"
                    .into(),
            );
        }
        let o = &self.onestop;
        if o.lookup_per_address < 1 || o.lookup_per_code < 1 || o.lookup_window_minutes < 1 {
            return Err("onestop.lookup_*: limits and the window must be at least 1".into());
        }
        self.national_portal.validate()?;
        for seal in &self.signatures.seals {
            let hsm = seal.pkcs11_module.is_some();
            if hsm == seal.key.is_some() {
                return Err(format!(
                    "signatures.seals ({}): give either key (a key file) or pkcs11_module",
                    seal.agency
                ));
            }
            if hsm && (seal.token_label.is_none() || seal.key_label.is_none()) {
                return Err(format!(
                    "signatures.seals ({}): an HSM key needs token_label and key_label",
                    seal.agency
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_follows_the_listen_address_unless_set() {
        let mut s = Server {
            listen: "0.0.0.0:18080".into(),
            ..Server::default()
        };
        assert_eq!(s.public_url(), "http://127.0.0.1:18080");
        s.listen = "10.1.2.3:9000".into();
        assert_eq!(s.public_url(), "http://10.1.2.3:9000");
        assert!(!s.cookies_secure());
        s.public_url = "https://egov.thanhhoa.gov.vn/".into();
        assert_eq!(s.public_url(), "https://egov.thanhhoa.gov.vn");
        assert!(s.cookies_secure(), "an https address makes cookies Secure");
    }

    #[test]
    fn defaults_are_valid() {
        let s = Settings::default();
        assert_eq!(s.scheme().unwrap(), IdentifierScheme::default());
        assert!(s.database_url().ends_with("egov.sqlite"));
    }

    #[test]
    fn the_pool_is_sized_for_the_database_unless_set() {
        let mut s = Settings::default();
        let cores = std::thread::available_parallelism().unwrap().get() as u32;
        assert_eq!(s.pool_size(), 2 * cores, "SQLite: two per core");
        s.database.url = "postgres://egov@db/egov".into();
        assert_eq!(s.pool_size(), 16);
        s.database.max_connections = 40;
        assert_eq!(s.pool_size(), 40, "a set size is kept");
    }

    #[test]
    fn a_code_format_without_its_parts_is_refused() {
        let mut s = Settings::default();
        assert!(s.validate().is_ok());
        s.onestop.code_format = "{agency}/{yyyymmdd}/{seq:5}".into();
        assert!(s.validate().is_ok());
        s.onestop.code_format = "{agency}-{seq:4}".into();
        assert!(s.validate().unwrap_err().contains("code_format"));
        s.onestop.code_format = "HS-{yymmdd}-{seq}".into();
        assert!(s.validate().is_err());
        s.onestop.code_format = "{agency}-{yymmdd}".into();
        assert!(s.validate().is_err());
        s.onestop.code_format = egov_domain::onestop::code::DEFAULT_FORMAT.into();
        s.onestop.lookup_per_code = 0;
        assert!(s.validate().unwrap_err().contains("lookup"));
    }

    #[test]
    fn bad_scheme_is_reported() {
        let mut s = Settings::default();
        s.identifiers.district_slots = "50-89".into();
        assert!(s.scheme().unwrap_err().contains("overlap"));
        s.identifiers.district_slots = "sixty".into();
        assert!(s.scheme().is_err());
    }
}
