//! Signatures in the outgoing flow (Decree 30 Art. 18–19).
//!
//! At sign-off the number and date are written into the PDF; the competent person then owes the
//! document a signature. Their key stays on their token: their client (`egov signer`) lists what
//! waits for them, sends its certificate chain, receives the data to be signed for the final
//! file, signs on the token and sends the value back; egov embeds it, judges the result and makes
//! it the document's file. At issue the records office's action applies the agency seal with the
//! agency's key (a key file under the key-encryption key, or an HSM), audited with the issue.

use crate::Code;
use base64::Engine;
use egov_pki::appearance::{self, Png};
use egov_pki::sign::Appearance;
use egov_pki::stamp::{self, NumberAndDate};
use egov_pki::x509_cert::Certificate;
use egov_pki::{RawSigner, SignRequest};
use egov_store::documents::{self as docs, DocumentRow};
use egov_store::signatures::{self as store, WaitingRow};
use egov_store::{Exec, Tx, now};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::settings::{LeaderSignature, Seal};
use crate::signature_images::ImageKind;
use crate::{Actor, App, AppError, ErrorKind, audit};

/// What the signer's client signs.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ToSign {
    pub request_id: i64,
    /// Base64 of the DER signed attributes; sign them with SHA-256 (RSA PKCS#1 v1.5 or ECDSA).
    pub data_to_be_signed: String,
    /// `rsa` or `ecdsa-p256`, from the certificate.
    pub algorithm: String,
    /// SHA-256 of the prepared file without its signature, hex: what the signature will cover.
    pub document_digest: String,
    /// How the signature shows: `above_name` (the signer's approved signature image above
    /// their name in the text), `position` (the image where the signer chose), `last_page`
    /// (the name is not in the text: the signature block's place on the last page), or
    /// `invisible` (no approved image in its validity).
    pub appearance: String,
}

/// Where the signer wants the signature, chosen on screen: the page (from 1) and the top-left
/// corner of the signature image, in millimetres from the page's top-left corner.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SignaturePosition {
    pub page: u32,
    pub x_mm: f32,
    pub y_mm: f32,
}

fn pki_error(e: egov_pki::Error) -> AppError {
    let kind = match e {
        egov_pki::Error::Token(_) => ErrorKind::Internal,
        egov_pki::Error::Timestamp(_) => ErrorKind::Conflict,
        _ => ErrorKind::Invalid,
    };
    use egov_pki::Error as E;
    let code = match &e {
        E::NotPdf => Code::PdfNotPdf,
        E::Encrypted => Code::PdfEncrypted,
        E::Malformed(_) => Code::PdfMalformed,
        E::Key(_) => Code::SigningKeyUnusable,
        E::Certificate(_) => Code::SigningCertificateUnusable,
        E::PinIncorrect { .. } => Code::TokenPinIncorrect,
        E::PinLocked => Code::TokenPinLocked,
        E::Token(_) => Code::TokenError,
        E::SignatureTooLarge { .. } => Code::SignatureTooLarge,
        E::SignatureMismatch => Code::SignatureMismatch,
        E::Timestamp(_) => Code::TimestampFailed,
        E::Appearance(_) => Code::SignaturePositionInvalid,
        E::TooComplex(_) => Code::PdfTooComplex,
    };
    AppError::new(kind, code, e.to_string())
}

fn blocking_error(e: tokio::task::JoinError) -> AppError {
    AppError::internal(e.to_string())
}

impl App {
    /// The bytes of a stored blob (read off the async threads). No permission check: callers
    /// have checked that the actor may see what holds the blob.
    pub async fn read_blob(&self, sha: &str) -> Result<Vec<u8>, AppError> {
        use egov_store::blobs::BlobStorage;
        use tokio::io::AsyncReadExt;
        let mut reader = self.blobs.read(sha).await?;
        let mut bytes = Vec::new();
        reader
            .read_to_end(&mut bytes)
            .await
            .map_err(|e| AppError::from(egov_store::StoreError::file("blob", e)))?;
        Ok(bytes)
    }

    /// Stores bytes egov produced (a signed or sealed PDF, an image) through the blob storage
    /// and returns their SHA-256.
    pub(crate) async fn put_blob(&self, bytes: &[u8]) -> Result<String, AppError> {
        use egov_store::blobs::BlobStorage;
        Ok(self.blobs.write(bytes, None, u64::MAX).await?.sha256)
    }

    /// Stores a PDF egov produced as the document's main file: blob, signature verdict,
    /// attachment row, `main_sha`. Returns the new blob's hash.
    async fn replace_main_pdf(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        pdf: Vec<u8>,
        verdict: Option<egov_store::signatures::ReportRow>,
    ) -> Result<String, AppError> {
        let size = pdf.len() as i64;
        let sha = self.put_blob(&pdf).await?;
        let pdf_type = crate::documents::files::PDF;
        egov_store::blobs::record(tx, &sha, size, pdf_type, now()).await?;
        if let Some(mut v) = verdict {
            v.sha256 = sha.clone();
            store::save(tx, &v).await?;
        }
        let name = match &d.notation {
            Some(n) => format!("{}.pdf", n.replace('/', "_")),
            None => "document.pdf".to_owned(),
        };
        docs::insert_attachment(tx, d.id, &sha, &name, pdf_type, size, "main", now()).await?;
        let fold = docs::search_fold_of(tx, d.id).await?;
        docs::set_main_file(tx, d.id, &sha, &fold).await?;
        Ok(sha)
    }

    /// At sign-off (inside its transaction): writes the number and date into the main PDF and,
    /// unless leaders' signatures are off, records the signature the signer owes it. Returns
    /// what happened, for the sign-off event.
    pub(crate) async fn number_into_pdf(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        notation: &str,
        issued_on: Date,
        signer: Option<i64>,
    ) -> Result<serde_json::Value, AppError> {
        let Some(main) = d.main_sha.clone() else {
            return Ok(serde_json::json!({}));
        };
        let place: Option<String> = match d.agency_id {
            Some(a) => tx
                .scalar_optional(
                    "SELECT u.name FROM agencies a JOIN admin_units u ON u.id = a.admin_unit_id WHERE a.id = $1",
                    egov_store::args![a],
                )
                .await?
                .map(|n: String| place_name(&n)),
            None => None,
        };
        let source = self.read_blob(&main).await?;
        let notation = notation.to_owned();
        let stamped = tokio::task::spawn_blocking(move || {
            let number = notation.split('/').next().unwrap_or_default().to_owned();
            stamp::number_and_date(
                &source,
                &NumberAndDate {
                    number: &number,
                    notation: &notation,
                    place: place.as_deref(),
                    date: issued_on,
                },
            )
        })
        .await
        .map_err(blocking_error)?
        .map_err(|e| {
            AppError::invalid(
                Code::PdfUnstampable,
                "The number and date cannot be written into this PDF; upload it again as a plain PDF.",
            )
            .arg("detail", e)
        })?;
        let (number_placed, date_placed) = (stamped.number, stamped.date);
        let unchanged = [number_placed, date_placed]
            .iter()
            .all(|p| *p == stamp::Placed::AlreadyThere);
        let sha = if unchanged {
            main.clone()
        } else {
            let verdict = self.judge_upload("", stamped.pdf.clone()).await?;
            self.replace_main_pdf(tx, d, stamped.pdf, Some(verdict))
                .await?
        };
        let mut out = serde_json::json!({
            "number_written": number_placed, "date_written": date_placed, "file": sha,
        });
        if let (Some(person), true) = (
            signer,
            self.settings.signatures.leader_signature != LeaderSignature::Off,
        ) {
            let id = store::insert_request(tx, d.id, person, "signer", &sha, now()).await?;
            out["signature_request"] = id.into();
        }
        Ok(out)
    }

    /// The signatures waiting for the signed-in person.
    pub async fn signatures_waiting(&self, actor: &Actor) -> Result<Vec<WaitingRow>, AppError> {
        let Some(p) = actor.person_id else {
            return Ok(Vec::new());
        };
        Ok(store::waiting_for(&mut &self.db, p).await?)
    }

    async fn own_request(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<egov_store::signatures::SigningRequestRow, AppError> {
        let r = store::get_request(&mut &self.db, id)
            .await?
            .ok_or_else(|| AppError::not_found("signature request"))?;
        if actor.person_id != Some(r.person_id) {
            return Err(AppError::forbidden());
        }
        if !matches!(r.state.as_str(), "waiting" | "prepared") {
            return Err(AppError::conflict(
                Code::SignatureClosed,
                "This signature has been made or is no longer needed.",
            )
            .arg("state", &r.state));
        }
        Ok(r)
    }

    /// The file a signature request signs, and the signer's approved signature image.
    async fn source_and_image(
        &self,
        r: &store::SigningRequestRow,
        d: &DocumentRow,
    ) -> Result<
        (
            Vec<u8>,
            Option<(egov_store::signature_images::ImageRow, Png)>,
        ),
        AppError,
    > {
        let source = self.read_blob(&r.source_sha).await?;
        let image = self
            .image_in_use(
                &mut &self.db,
                ImageKind::Signature,
                Some(r.person_id),
                d.agency_id.unwrap_or_default(),
            )
            .await?;
        Ok((source, image))
    }

    /// Where the signature will go, told before signing: how it shows (`above_name`,
    /// `last_page`, `invisible` — as [`ToSign::appearance`]) and on which page.
    pub async fn signature_placement(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(String, Option<u32>), AppError> {
        let r = self.own_request(actor, id).await?;
        let d = docs::get_document(&mut &self.db, r.document_id).await?;
        let signer_name = self.person_name(r.person_id).await?;
        let (source, image) = self.source_and_image(&r, &d).await?;
        tokio::task::spawn_blocking(move || {
            let (look, shown) = signature_appearance(&source, image, &signer_name, None)?;
            Ok::<_, egov_pki::Error>((shown.to_owned(), look.map(|a| a.page)))
        })
        .await
        .map_err(blocking_error)?
        .map_err(pki_error)
    }

    /// Phase one: lays out the final file for the signer's certificate chain (PEM, the
    /// signer's certificate first) and returns what the token signs. The signer's approved
    /// signature image is drawn above their name, or at `position` when they chose one.
    pub async fn prepare_signature(
        &self,
        actor: &Actor,
        id: i64,
        chain_pem: &str,
        position: Option<SignaturePosition>,
    ) -> Result<ToSign, AppError> {
        let r = self.own_request(actor, id).await?;
        let d = docs::get_document(&mut &self.db, r.document_id).await?;
        if d.main_sha.as_deref() != Some(r.source_sha.as_str()) {
            return Err(AppError::conflict(
                Code::DocumentChanged,
                "The document's file changed after sign-off; this signature is no longer asked for.",
            ));
        }
        let chain = egov_pki::cert::load_certificates(chain_pem.as_bytes()).map_err(|e| {
            AppError::invalid(
                Code::BadCertificate,
                "The certificate chain cannot be read (PEM, the signer's certificate first).",
            )
            .arg("detail", e)
        })?;
        let signer_name = self.person_name(r.person_id).await?;
        check_holder(&chain, &signer_name)?;
        let agency_name = match d.agency_id {
            Some(a) => egov_store::agencies::get(&mut &self.db, a).await?.name,
            None => String::new(),
        };
        let (source, image) = self.source_and_image(&r, &d).await?;
        let mut request = SignRequest::new(chain.clone(), now());
        request.name = Some(signer_name.clone());
        request.reason = Some(format!(
            "Ký ban hành {}",
            d.notation.as_deref().unwrap_or("văn bản")
        ));
        request.location = Some(agency_name).filter(|s| !s.is_empty());
        let (prepared, shown) = tokio::task::spawn_blocking(move || {
            let (look, shown) = signature_appearance(&source, image, &signer_name, position)?;
            request.appearance = look;
            Ok::<_, egov_pki::Error>((egov_pki::prepare(&source, &request)?, shown))
        })
        .await
        .map_err(blocking_error)?
        .map_err(pki_error)?;
        let dtbs = prepared.data_to_be_signed().map_err(pki_error)?;
        let algorithm = prepared.algorithm().map_err(pki_error)?;
        let digest = hex::encode(prepared.document_digest());
        let pem = chain
            .iter()
            .map(egov_pki::cert::to_pem)
            .collect::<Result<String, _>>()
            .map_err(pki_error)?;
        let bytes = prepared.pdf;
        let size = bytes.len() as i64;
        let sha = self.put_blob(&bytes).await?;
        let mut tx = self.db.begin().await?;
        egov_store::blobs::record(&mut tx, &sha, size, crate::documents::files::PDF, now()).await?;
        if !store::set_prepared(&mut tx, id, &r.state, &sha, &pem, now()).await? {
            return Err(AppError::conflict(
                Code::SignatureBusy,
                "This signature is being prepared or made elsewhere; list the waiting signatures again.",
            ));
        }
        audit::event("document.signature_prepared", "document", d.id)
            .agency(d.agency_id)
            .after(&serde_json::json!({ "request_id": id, "certificate": egov_pki::cert::serial_hex(&chain[0]), "appearance": shown }))
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(ToSign {
            request_id: id,
            data_to_be_signed: base64::engine::general_purpose::STANDARD.encode(dtbs),
            algorithm: algorithm.name().to_owned(),
            document_digest: digest,
            appearance: shown.to_owned(),
        })
    }

    /// Phase two: embeds the signature value, judges the signed file against the trust lists
    /// and makes it the document's file. A signature that is not valid is refused with the
    /// findings, and nothing changes.
    pub async fn complete_signature(
        &self,
        actor: &Actor,
        id: i64,
        signature: &[u8],
    ) -> Result<egov_store::signatures::ReportRow, AppError> {
        let r = self.own_request(actor, id).await?;
        let (Some(prepared_sha), Some(pem)) = (r.prepared_sha.clone(), r.chain_pem.clone()) else {
            return Err(AppError::conflict(
                Code::SignatureNotPrepared,
                "Send the certificate first: the file is prepared for it.",
            ));
        };
        if r.state != "prepared" {
            return Err(AppError::conflict(
                Code::SignatureNotPrepared,
                "Send the certificate first: the file is prepared for it.",
            ));
        }
        let chain = egov_pki::cert::load_certificates(pem.as_bytes()).map_err(pki_error)?;
        let pdf = self.read_blob(&prepared_sha).await?;
        let sig = signature.to_vec();
        let tsa = self.settings.signatures.tsa_url.clone();
        let handle = tokio::runtime::Handle::current();
        let signed = tokio::task::spawn_blocking(move || {
            let p = egov_pki::Prepared::from_parts(pdf, chain)?;
            match tsa {
                Some(url) => {
                    let tsa = blocking_tsa(handle, url);
                    egov_pki::sign::finish_stamped(&p, &sig, Some(&tsa))
                }
                None => egov_pki::finish(&p, &sig),
            }
        })
        .await
        .map_err(blocking_error)?
        .map_err(pki_error)?;
        let report = self.verify_pdf(signed.clone()).await?;
        let mine = report.signatures.last();
        if report.status != egov_pki::Status::Valid || mine.is_none() {
            let reasons: Vec<&str> = mine
                .map(|s| s.findings.iter().map(|f| f.code).collect())
                .unwrap_or_default();
            return Err(AppError::invalid(
                Code::SignatureNotValid,
                "The signature was made but does not verify as valid; it was not kept.",
            )
            .arg("findings", reasons.join(", ")));
        }
        let verdict = Self::verdict_row("", &report)?;
        let mut tx = self.db.begin().await?;
        let d = docs::get_document(&mut tx, r.document_id).await?;
        if d.main_sha.as_deref() != Some(r.source_sha.as_str()) {
            return Err(AppError::conflict(
                Code::DocumentChanged,
                "The document's file changed after sign-off; this signature is no longer asked for.",
            ));
        }
        let sha = self
            .replace_main_pdf(&mut tx, &d, signed, Some(verdict))
            .await?;
        if !store::set_signed(&mut tx, id, &prepared_sha, &sha, now()).await? {
            return Err(AppError::conflict(
                Code::SignatureBusy,
                "This signature is being prepared or made elsewhere; list the waiting signatures again.",
            ));
        }
        let data = serde_json::json!({ "request_id": id, "file": sha, "signer": mine.and_then(|s| s.signer.clone()) });
        docs::insert_event(
            &mut tx,
            d.id,
            None,
            now(),
            actor.person_id,
            &actor.username,
            "sign",
            Some(d.state.as_str()),
            d.state.as_str(),
            &data,
        )
        .await?;
        audit::event("document.signed", "document", d.id)
            .agency(d.agency_id)
            .after(&data)
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        store::get(&mut &self.db, &sha)
            .await?
            .ok_or_else(|| AppError::internal("the verdict vanished"))
    }

    async fn person_name(&self, person_id: i64) -> Result<String, AppError> {
        Ok(egov_store::people::get(&mut &self.db, person_id)
            .await?
            .full_name)
    }

    /// At issue (inside its transaction): refuses while a required signature is missing, closes
    /// what is no longer needed and applies the agency seal where one is configured. Returns what
    /// happened, for the issue event.
    pub(crate) async fn seal_at_issue(
        &self,
        tx: &mut Tx,
        d: &DocumentRow,
        agency_code: &str,
    ) -> Result<serde_json::Value, AppError> {
        let requests = store::requests_of_document(tx, d.id).await?;
        let signed = requests.iter().any(|r| r.state == "signed");
        let open = requests
            .iter()
            .any(|r| matches!(r.state.as_str(), "waiting" | "prepared"));
        if open && self.settings.signatures.leader_signature == LeaderSignature::Required {
            return Err(AppError::conflict(
                Code::SignaturePending,
                "The signer's digital signature has not been made yet; it is waiting in their egov signer.",
            ));
        }
        if open {
            store::cancel_open(tx, d.id).await?;
        }
        let seal = self
            .settings
            .signatures
            .seals
            .iter()
            .find(|s| s.agency == agency_code)
            .cloned();
        let (Some(seal), Some(main)) = (seal, d.main_sha.clone()) else {
            return Ok(serde_json::json!({ "leader_signed": signed, "sealed": false }));
        };
        let pdf = self.read_blob(&main).await?;
        let kek = self.kek()?;
        let data_dir = self.settings.data_dir.clone();
        let agency_name = match d.agency_id {
            Some(a) => egov_store::agencies::get(tx, a).await?.name,
            None => String::new(),
        };
        let image = match d.agency_id {
            Some(a) => self.image_in_use(tx, ImageKind::Seal, None, a).await?,
            None => None,
        };
        // Attachments in files of their own carry the agency's signature too (Decree 30
        // Appendix I): a small text block at the top right of their first page.
        let attachments: Vec<_> = docs::attachments(tx, d.id)
            .await?
            .into_iter()
            .filter(|a| a.role == "attachment" && a.media_type == crate::documents::files::PDF)
            .collect();
        let mut files = Vec::with_capacity(attachments.len());
        for a in &attachments {
            files.push((a.name.clone(), self.read_blob(&a.sha256).await?));
        }
        let tsa = self
            .settings
            .signatures
            .tsa_url
            .clone()
            .map(|url| blocking_tsa(tokio::runtime::Handle::current(), url));
        let job = SealJob {
            notation: d.notation.clone().unwrap_or_default(),
            signer_name: d.signer_name.clone(),
            agency_name,
            image,
        };
        let (sealed, shown, sealed_files) = tokio::task::spawn_blocking(move || {
            let tsa = tsa.as_ref().map(|t| t as egov_pki::sign::Tsa);
            let (chain, key) = seal_key(&seal, kek.as_deref(), &data_dir)?;
            job.seal(&pdf, &files, chain, key.as_ref(), tsa)
        })
        .await
        .map_err(blocking_error)??;
        let report = self.verify_pdf(sealed.clone()).await?;
        let verdict = Self::verdict_row("", &report)?;
        let status = verdict.status.clone();
        let sha = self.replace_main_pdf(tx, d, sealed, Some(verdict)).await?;
        let mut sealed_attachments = Vec::new();
        for (a, bytes) in attachments.iter().zip(sealed_files) {
            let report = self.verify_pdf(bytes.clone()).await?;
            let mut verdict = Self::verdict_row("", &report)?;
            let size = bytes.len() as i64;
            let new_sha = self.put_blob(&bytes).await?;
            egov_store::blobs::record(tx, &new_sha, size, &a.media_type, now()).await?;
            verdict.sha256 = new_sha.clone();
            store::save(tx, &verdict).await?;
            docs::replace_attachment_file(tx, a.id, &new_sha, size).await?;
            sealed_attachments.push(serde_json::json!({
                "attachment": a.id, "file": new_sha, "verdict": verdict.status,
            }));
        }
        Ok(serde_json::json!({
            "leader_signed": signed, "sealed": true, "file": sha, "verdict": status,
            "seal_image": shown, "attachments": sealed_attachments,
        }))
    }

    /// The key-encryption key of key files: from the configured file, else the environment.
    pub fn kek(&self) -> Result<Option<Vec<u8>>, AppError> {
        let s = &self.settings.signatures;
        if let Some(f) = &s.kek_file {
            let path = self.settings.in_data_dir(f);
            let bytes = std::fs::read(&path).map_err(|e| {
                AppError::invalid(
                    Code::BadConfig,
                    format!("signatures.kek_file {}: {e}", path.display()),
                )
            })?;
            return Ok(Some(trim_ascii(bytes)));
        }
        Ok(std::env::var(&s.kek_env)
            .ok()
            .filter(|v| !v.is_empty())
            .map(String::into_bytes))
    }
}

/// Asks the time-stamp authority at `url` (plain HTTP) for a time-stamp: posts the DER
/// request, returns the DER reply.
pub async fn post_timestamp(url: &str, request: Vec<u8>) -> Result<Vec<u8>, String> {
    use http_body_util::BodyExt;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Full<bytes::Bytes>>();
    let req = hyper::Request::post(url)
        .header("content-type", "application/timestamp-query")
        .body(http_body_util::Full::new(bytes::Bytes::from(request)))
        .map_err(|e| format!("bad time-stamp authority address {url}: {e}"))?;
    let call = async {
        let resp = client
            .request(req)
            .await
            .map_err(|e| format!("the time-stamp authority {url} cannot be reached: {e}"))?;
        let status = resp.status();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("the time-stamp authority answered {status}"));
        }
        Ok(body.to_vec())
    };
    tokio::time::timeout(std::time::Duration::from_secs(15), call)
        .await
        .map_err(|_| format!("the time-stamp authority {url} did not answer in 15 s"))?
}

/// A blocking time-stamp call for the signing code (call it on a blocking thread, not on the
/// runtime's workers).
pub fn blocking_tsa(
    handle: tokio::runtime::Handle,
    url: String,
) -> impl Fn(&[u8]) -> Result<Vec<u8>, String> {
    move |req: &[u8]| handle.block_on(post_timestamp(&url, req.to_vec()))
}

fn trim_ascii(mut v: Vec<u8>) -> Vec<u8> {
    while v.last().is_some_and(u8::is_ascii_whitespace) {
        v.pop();
    }
    v
}

/// "Tỉnh Thanh Hóa" → "Thanh Hóa": the place name that opens a date line.
fn place_name(unit: &str) -> String {
    let t = unit.trim();
    for prefix in ["Tỉnh ", "Thành phố ", "Xã ", "Phường ", "Đặc khu "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            return rest.to_owned();
        }
    }
    t.to_owned()
}

/// The signer's certificate must name the signer: the holder's common name, compared without
/// case or diacritics, is the person's name.
fn check_holder(chain: &[Certificate], name: &str) -> Result<(), AppError> {
    let cert = chain.first().ok_or_else(|| {
        AppError::invalid(Code::BadCertificate, "The certificate chain is empty.")
    })?;
    let holder = egov_pki::cert::display_name(cert);
    let fold = egov_domain::text::fold;
    if fold(&holder) != fold(name) {
        return Err(AppError::invalid(
            Code::CertificateNotSigner,
            "The certificate is not the signer's: it names someone else.",
        )
        .arg("certificate", holder)
        .arg("signer", name));
    }
    Ok(())
}

/// The agency's seal key and certificate chain (blocking: reads files or opens the HSM).
fn seal_key(
    seal: &Seal,
    kek: Option<&[u8]>,
    data_dir: &std::path::Path,
) -> Result<(Vec<Certificate>, Box<dyn RawSigner>), AppError> {
    let path = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            data_dir.join(p)
        }
    };
    let config = |what: &str, e: String| {
        AppError::invalid(
            Code::SealUnavailable,
            format!("The agency seal cannot be used ({what}): {e}"),
        )
    };
    let chain_bytes =
        std::fs::read(path(&seal.certificate)).map_err(|e| config("certificate", e.to_string()))?;
    let chain = egov_pki::cert::load_certificates(&chain_bytes)
        .map_err(|e| config("certificate", e.to_string()))?;
    let key: Box<dyn RawSigner> = match (&seal.key, &seal.pkcs11_module) {
        (Some(k), _) => {
            let pem = std::fs::read_to_string(path(k)).map_err(|e| config("key", e.to_string()))?;
            Box::new(
                egov_pki::FileKey::from_pem(&pem, kek).map_err(|e| config("key", e.to_string()))?,
            )
        }
        (None, Some(module)) => {
            let pin = seal
                .pin_env
                .as_deref()
                .and_then(|v| std::env::var(v).ok())
                .unwrap_or_default();
            let token = egov_pki::pkcs11::Token {
                module: module.clone(),
                token_label: seal.token_label.clone(),
                key_label: seal.key_label.clone().unwrap_or_default(),
                max_pin_tries: 3,
                tries_file: Some(data_dir.join(format!("pkcs11-tries-{}", seal.agency))),
            };
            Box::new(token.open(&pin).map_err(pki_error)?)
        }
        (None, None) => return Err(config("key", "no key configured".into())),
    };
    Ok((chain, key))
}

/// The sealed document, how the seal shows, and the sealed attachments in order.
type Sealed = (Vec<u8>, &'static str, Vec<Vec<u8>>);

/// What the seal at issue draws and writes.
struct SealJob {
    notation: String,
    signer_name: Option<String>,
    agency_name: String,
    /// The agency's approved seal image, if any.
    image: Option<(egov_store::signature_images::ImageRow, Png)>,
}

impl SealJob {
    /// Seals the document (with the seal image over the leader's signature) and each attachment
    /// (with the agency's text block at the top right). Returns the sealed document, how the
    /// seal shows, and the sealed attachments in order.
    fn seal(
        self,
        pdf: &[u8],
        attachments: &[(String, Vec<u8>)],
        chain: Vec<Certificate>,
        key: &dyn RawSigner,
        tsa: Option<egov_pki::sign::Tsa>,
    ) -> Result<Sealed, AppError> {
        let t = now();
        let mut request = SignRequest::new(chain, t);
        request.name = Some(self.agency_name.clone()).filter(|s| !s.is_empty());
        request.reason = Some("Đóng dấu ban hành".to_owned());
        let (look, shown) =
            seal_appearance(pdf, self.image, self.signer_name.as_deref()).map_err(pki_error)?;
        let mut main = request.clone();
        main.appearance = look;
        let sealed = egov_pki::sign::sign_with_stamped(pdf, &main, key, tsa).map_err(pki_error)?;
        let lines = attachment_lines(&self.agency_name, &self.notation, t);
        let mut out = Vec::with_capacity(attachments.len());
        for (name, bytes) in attachments {
            let unsealable = |e: egov_pki::Error| {
                AppError::invalid(
                    Code::AttachmentUnsealable,
                    format!("The attachment {name} cannot carry the agency's signature: {e}"),
                )
                .arg("name", name)
            };
            let rect = appearance::top_right(bytes, ATTACHMENT_BOX).map_err(unsealable)?;
            let mut r = request.clone();
            r.reason = Some(format!("Phụ lục kèm theo văn bản {}", self.notation));
            r.appearance = Some(appearance::text_appearance(1, rect, &lines, 7.0));
            out.push(egov_pki::sign::sign_with_stamped(bytes, &r, key, tsa).map_err(unsealable)?);
        }
        Ok((sealed, shown, out))
    }
}

/// The agency's text block on an attachment: about 70 × 12 mm.
const ATTACHMENT_BOX: (f32, f32) = (198.0, 34.0);

/// The lines of the agency's signature on an attachment: who, which document, when (Vietnam's
/// time).
fn attachment_lines(agency: &str, notation: &str, t: OffsetDateTime) -> Vec<String> {
    let l = t.to_offset(egov_domain::VN_OFFSET);
    vec![
        format!("Ký bởi: {agency}"),
        format!("Số, ký hiệu: {notation}"),
        format!(
            "Thời gian ký: {:02}/{:02}/{} {:02}:{:02}:{:02} +07:00",
            l.day(),
            u8::from(l.month()),
            l.year(),
            l.hour(),
            l.minute(),
            l.second()
        ),
    ]
}

/// The leader's signature: their approved image above their name in the text, or where they
/// chose; when the name is not in the text, in the signature block's place on the last page
/// (`last_page`); invisible only without an approved image.
fn signature_appearance(
    pdf: &[u8],
    image: Option<(egov_store::signature_images::ImageRow, Png)>,
    name: &str,
    position: Option<SignaturePosition>,
) -> Result<(Option<Appearance>, &'static str), egov_pki::Error> {
    let Some((row, png)) = image else {
        return Ok((None, "invisible"));
    };
    let size = appearance::printed_size(&png.image, row.width_mm as f32);
    let (page, rect, shown) = match position {
        Some(p) => (
            p.page,
            appearance::at_position(pdf, p.page, p.x_mm, p.y_mm, size)?,
            "position",
        ),
        None => match appearance::above_name(pdf, name, size)? {
            Some((page, rect)) => (page, rect, "above_name"),
            None => {
                let (page, rect) = appearance::last_page_place(pdf, size)?;
                (page, rect, "last_page")
            }
        },
    };
    Ok((
        Some(appearance::image_appearance(page, rect, png.image)),
        shown,
    ))
}

/// The seal: the agency's approved image at real size over the left third of the leader's
/// visible signature (or of where it would be: above the signer's name, else the signature
/// block's place on the last page); invisible only without an image.
fn seal_appearance(
    pdf: &[u8],
    image: Option<(egov_store::signature_images::ImageRow, Png)>,
    signer: Option<&str>,
) -> Result<(Option<Appearance>, &'static str), egov_pki::Error> {
    let Some((row, png)) = image else {
        return Ok((None, "invisible"));
    };
    let diameter = egov_pdf::mm(row.width_mm as f32);
    let block = (egov_pdf::mm(40.0), diameter);
    let under = match appearance::first_visible_signature(pdf)? {
        Some(found) => Some((found, "over_signature")),
        None => match signer {
            Some(name) => {
                appearance::above_name(pdf, name, block)?.map(|found| (found, "above_name"))
            }
            None => None,
        },
    };
    let ((page, rect), shown) = match under {
        Some(u) => u,
        None => (appearance::last_page_place(pdf, block)?, "last_page"),
    };
    Ok((
        Some(appearance::image_appearance(
            page,
            appearance::seal_over(rect, diameter),
            png.image,
        )),
        shown,
    ))
}

/// What `egov pki demo` made: the files, and the signature settings that use them.
#[derive(Debug, Clone)]
pub struct DemoPki {
    pub settings: crate::settings::Signatures,
    /// (user name, certificate chain file, encrypted key file) of each person who signs.
    pub people: Vec<(String, std::path::PathBuf, std::path::PathBuf)>,
}

impl App {
    /// A demo PKI in `dir`: a root CA (RSA) with an empty CRL, a seal certificate for every
    /// agency with a records office and a personal certificate for every leader (ECDSA P-256),
    /// their keys encrypted under a fresh key-encryption key in `dir/kek`. Reuses what exists.
    /// A demo PKI in `dir`: a root CA, a seal key for every agency with a records office and a
    /// personal key for every leader, of `algorithm` (RSA-2048, as Vietnamese CAs issue, or
    /// P-256). Existing files are kept.
    pub async fn demo_pki(
        &self,
        dir: &std::path::Path,
        algorithm: egov_pki::KeyAlgorithm,
    ) -> Result<DemoPki, AppError> {
        let mut ex = &self.db;
        let people: Vec<(String, String)> = ex
            .fetch_all(
                "SELECT DISTINCT p.username, p.full_name FROM people p JOIN role_grants g ON g.person_id = p.id \
                 WHERE g.role IN ('agency_leader', 'unit_leader') ORDER BY p.username",
                egov_store::args![],
            )
            .await?;
        let agencies: Vec<(String, String)> = ex
            .fetch_all(
                "SELECT DISTINCT a.code, a.name FROM agencies a JOIN role_grants g ON g.agency_id = a.id \
                 WHERE g.role = 'records_clerk' ORDER BY a.code",
                egov_store::args![],
            )
            .await?;
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || demo_pki_files(&dir, &people, &agencies, algorithm))
            .await
            .map_err(blocking_error)?
            .map_err(|e| AppError::internal(format!("demo PKI: {e}")))
    }
}

fn demo_pki_files(
    dir: &std::path::Path,
    people: &[(String, String)],
    agencies: &[(String, String)],
    algorithm: egov_pki::KeyAlgorithm,
) -> Result<DemoPki, String> {
    use egov_pki::KeyAlgorithm;
    use egov_pki::demo::{self, Purpose};
    let err = |e: &dyn std::fmt::Display| e.to_string();
    std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    let write = |name: &str, text: &[u8], private: bool| -> Result<std::path::PathBuf, String> {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        if private {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| err(&e))?;
        }
        let _ = private;
        Ok(path)
    };
    let kek = match std::fs::read(dir.join("kek")) {
        Ok(k) => trim_ascii(k),
        Err(_) => {
            let mut raw = [0u8; 24];
            getrandom::fill(&mut raw).map_err(|e| err(&e))?;
            let k = hex::encode(raw).into_bytes();
            write("kek", &k, true)?;
            k
        }
    };
    let t = now();
    let (from, to) = (
        t - time::Duration::days(1),
        t + time::Duration::days(3 * 365),
    );
    let root_key = dir.join("root.key.pem");
    let root = if root_key.exists() {
        let key = egov_pki::FileKey::from_pem(
            &std::fs::read_to_string(&root_key).map_err(|e| err(&e))?,
            Some(&kek),
        )
        .map_err(|e| err(&e))?;
        let cert = egov_pki::cert::load_certificates(
            &std::fs::read(dir.join("root.pem")).map_err(|e| err(&e))?,
        )
        .map_err(|e| err(&e))?
        .remove(0);
        demo::Issued { key, cert }
    } else {
        let root = demo::issue(
            None,
            "CN=egov Demo Root CA (không dùng thật),O=egov demo,C=VN",
            KeyAlgorithm::Rsa,
            Purpose::Ca,
            from,
            t + time::Duration::days(10 * 365),
        )
        .map_err(|e| err(&e))?;
        write(
            "root.key.pem",
            root.key
                .to_encrypted_pem(&kek)
                .map_err(|e| err(&e))?
                .as_bytes(),
            true,
        )?;
        write(
            "root.pem",
            egov_pki::cert::to_pem(&root.cert)
                .map_err(|e| err(&e))?
                .as_bytes(),
            false,
        )?;
        root
    };
    let crl = demo::crl(&root, 1, &[], from, t + time::Duration::days(30)).map_err(|e| err(&e))?;
    write(
        "root.crl.pem",
        egov_pki::cert::crl_to_pem(&crl)
            .map_err(|e| err(&e))?
            .as_bytes(),
        false,
    )?;
    let root_pem = egov_pki::cert::to_pem(&root.cert).map_err(|e| err(&e))?;
    let clean = |s: &str| s.replace([',', '+', '=', ';', '"', '\\', '<', '>'], " ");
    let issue =
        |stem: &str, subject: String| -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
            let (cert_path, key_path) = (
                dir.join(format!("{stem}.pem")),
                dir.join(format!("{stem}.key.pem")),
            );
            if cert_path.exists() && key_path.exists() {
                return Ok((cert_path, key_path));
            }
            let leaf = demo::issue(Some(&root), &subject, algorithm, Purpose::Signing, from, to)
                .map_err(|e| err(&e))?;
            let chain = format!(
                "{}{root_pem}",
                egov_pki::cert::to_pem(&leaf.cert).map_err(|e| err(&e))?
            );
            let c = write(&format!("{stem}.pem"), chain.as_bytes(), false)?;
            let k = write(
                &format!("{stem}.key.pem"),
                leaf.key
                    .to_encrypted_pem(&kek)
                    .map_err(|e| err(&e))?
                    .as_bytes(),
                true,
            )?;
            Ok((c, k))
        };
    let mut seals = Vec::new();
    for (code, name) in agencies {
        let (certificate, key) = issue(
            &format!("seal-{code}"),
            format!("CN={},OU={code},O=egov demo,C=VN", clean(name)),
        )?;
        seals.push(Seal {
            agency: code.clone(),
            certificate,
            key: Some(key),
            pkcs11_module: None,
            token_label: None,
            key_label: None,
            pin_env: None,
        });
    }
    let mut out_people = Vec::new();
    for (username, name) in people {
        let (c, k) = issue(
            &format!("person-{username}"),
            format!("CN={},O=egov demo,C=VN", clean(name)),
        )?;
        out_people.push((username.clone(), c, k));
    }
    Ok(DemoPki {
        settings: crate::settings::Signatures {
            trust_gcc: vec![dir.join("root.pem")],
            crls: vec![dir.join("root.crl.pem")],
            kek_file: Some(dir.join("kek")),
            seals,
            ..crate::settings::Signatures::default()
        },
        people: out_people,
    })
}
