//! Signature and seal images (Decree 30 Appendix I): a person's handwritten signature (blue on a
//! transparent background) and an agency's seal (red, at real size). The owner uploads one —
//! the person their signature, the records office the agency's seal — an administrator of the
//! agency approves or rejects it, and egov draws it only within its validity and only in its
//! owner's signatures.

use crate::Code;
use egov_domain::org::Role;
use egov_pki::appearance::{Png, decode_png};
use egov_store::signature_images::{self as store, ImageRow, NewImage};
use egov_store::{Exec, now};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::views::AsView;
use crate::{Actor, App, AppError, ErrorKind, audit, authz};

/// Uploads larger than this are refused (a signature scan at 600 dpi is far smaller).
pub const MAX_IMAGE_BYTES: usize = 2 << 20;

/// What an image is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    /// A person's handwritten signature.
    Signature,
    /// An agency's seal.
    Seal,
}

impl ImageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ImageKind::Signature => "signature",
            ImageKind::Seal => "seal",
        }
    }

    pub fn parse(s: &str) -> Option<ImageKind> {
        match s {
            "signature" => Some(ImageKind::Signature),
            "seal" => Some(ImageKind::Seal),
            _ => None,
        }
    }

    /// The printed width when the uploader gives none, and the widths allowed (mm). Seals of
    /// Vietnamese agencies are 32–42 mm across; a signature sits in a box about 40 mm wide.
    fn widths(self) -> (f64, std::ops::RangeInclusive<f64>) {
        match self {
            ImageKind::Signature => (40.0, 15.0..=80.0),
            ImageKind::Seal => (36.0, 20.0..=50.0),
        }
    }
}

/// An upload: the PNG and what it is.
#[derive(Debug, Clone)]
pub struct UploadImage {
    pub kind: ImageKind,
    /// The agency whose administrator approves it (a seal: the agency it belongs to).
    pub agency_id: i64,
    pub width_mm: Option<f64>,
    /// First and last day of use (Vietnam's days); from today and without end when absent.
    pub valid_from: Option<Date>,
    pub valid_to: Option<Date>,
    pub png: Vec<u8>,
}

/// Checks an image's content for its kind: a PNG with a transparent background, blue ink for a
/// signature and red for a seal.
pub fn check_image(kind: ImageKind, bytes: &[u8]) -> Result<Png, AppError> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(AppError::invalid(
            Code::ImageTooLarge,
            "The image is larger than 2 MiB; save it again at a lower resolution.",
        )
        .arg("size", bytes.len()));
    }
    if !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Err(AppError::invalid(
            Code::ImageNotPng,
            "The image must be a PNG with a transparent background.",
        ));
    }
    let png = decode_png(bytes).map_err(|e| {
        AppError::invalid(Code::ImageNotPng, "The PNG cannot be read.").arg("detail", e)
    })?;
    if !png.transparent {
        return Err(AppError::invalid(
            Code::ImageNotTransparent,
            "The background must be transparent, so that the text under the signature shows through.",
        ));
    }
    let [r, g, b] = png.ink.map(i32::from);
    let ok = match kind {
        ImageKind::Signature => b >= 80 && b > r + 40 && b > g + 20,
        ImageKind::Seal => r >= 120 && r > g + 60 && r > b + 60,
    };
    if !ok {
        let (code, message) = match kind {
            ImageKind::Signature => (
                Code::ImageNotBlue,
                "A signature image is drawn in blue ink (Decree 30 Appendix I).",
            ),
            ImageKind::Seal => (
                Code::ImageNotRed,
                "A seal image is red (Decree 30 Appendix I).",
            ),
        };
        return Err(AppError::invalid(code, message).arg("ink", format!("#{r:02x}{g:02x}{b:02x}")));
    }
    Ok(png)
}

fn vn_midnight(d: Date) -> OffsetDateTime {
    d.midnight().assume_offset(egov_domain::VN_OFFSET)
}

/// True when the actor owns the image or uploaded it (and so may not decide on it).
pub fn owns(actor: &Actor, row: &ImageRow) -> bool {
    actor.person_id.is_some()
        && (row.person_id == actor.person_id || row.uploaded_by == actor.person_id)
}

impl App {
    /// Uploads a signature image (for the signed-in person, in one of their agencies) or a seal
    /// image (by the agency's records office). It waits for an administrator's approval.
    pub async fn upload_signature_image(
        &self,
        actor: &Actor,
        cmd: UploadImage,
    ) -> Result<ImageRow, AppError> {
        let png = check_image(cmd.kind, &cmd.png)?;
        let (default_width, allowed) = cmd.kind.widths();
        let width_mm = cmd.width_mm.unwrap_or(default_width);
        if !allowed.contains(&width_mm) {
            return Err(AppError::invalid(
                Code::ImageSizeInvalid,
                format!(
                    "The printed width must be between {} and {} mm.",
                    allowed.start(),
                    allowed.end()
                ),
            )
            .arg("width_mm", width_mm));
        }
        let t = now();
        let valid_from = cmd.valid_from.map_or(t, vn_midnight);
        let valid_to = cmd
            .valid_to
            .map(|d| vn_midnight(d) + time::Duration::days(1));
        if valid_to.is_some_and(|to| to <= valid_from || to <= t) {
            return Err(AppError::invalid(
                Code::ValidityInvalid,
                "The last day of use must be today or later, and not before the first.",
            ));
        }
        let mut tx = self.db.begin().await?;
        let person_id = match cmd.kind {
            ImageKind::Signature => {
                let Some(p) = actor.person_id else {
                    return Err(AppError::invalid(
                        Code::ImageOwnerRequired,
                        "A signature image belongs to a person: sign in as that person.",
                    ));
                };
                let mine = authz::agencies_with(&mut tx, actor, &Role::ALL, self.now()).await?;
                if mine.is_some_and(|a| !a.contains(&cmd.agency_id)) {
                    return Err(AppError::forbidden());
                }
                Some(p)
            }
            ImageKind::Seal => {
                authz::require(
                    &mut tx,
                    actor,
                    &[Role::RecordsClerk],
                    Some(cmd.agency_id),
                    None,
                    self.now(),
                )
                .await?;
                None
            }
        };
        let size = cmd.png.len() as i64;
        let sha = self.put_blob(&cmd.png).await?;
        egov_store::blobs::record(&mut tx, &sha, size, "image/png", t).await?;
        let id = store::insert(
            &mut tx,
            &NewImage {
                kind: cmd.kind.as_str(),
                person_id,
                agency_id: cmd.agency_id,
                sha256: &sha,
                width_px: i64::from(png.image.width),
                height_px: i64::from(png.image.height),
                width_mm,
                valid_from,
                valid_to,
                uploaded_by: actor.person_id,
                now: t,
            },
        )
        .await?;
        let row = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::internal("the image vanished"))?;
        audit::event("signature_image.uploaded", "signature_image", id)
            .agency(Some(cmd.agency_id))
            .after(&row.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// An administrator of the image's agency approves or rejects a pending image. Nobody
    /// approves their own upload.
    pub async fn decide_signature_image(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        note: &str,
    ) -> Result<ImageRow, AppError> {
        let mut tx = self.db.begin().await?;
        let row = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("signature image"))?;
        authz::require_admin_of(&mut tx, actor, row.agency_id, self.now()).await?;
        if owns(actor, &row) {
            return Err(AppError::new(
                ErrorKind::Forbidden,
                Code::ImageOwnUpload,
                "Another administrator must decide on an image you uploaded or own.",
            ));
        }
        if !approve && note.trim().is_empty() {
            return Err(AppError::invalid(
                Code::ReasonRequired,
                "Say why the image is rejected, so that its owner can upload a better one.",
            ));
        }
        let to = if approve { "approved" } else { "rejected" };
        let after = self
            .move_image(&mut tx, actor, &row, "pending", to, note)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The owner stops using an image (pending or approved).
    pub async fn withdraw_signature_image(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<ImageRow, AppError> {
        let mut tx = self.db.begin().await?;
        let row = store::get(&mut tx, id)
            .await?
            .ok_or_else(|| AppError::not_found("signature image"))?;
        let clerk = row.kind == "seal"
            && authz::require(
                &mut tx,
                actor,
                &[Role::RecordsClerk],
                Some(row.agency_id),
                None,
                self.now(),
            )
            .await
            .is_ok();
        if !owns(actor, &row) && !clerk {
            return Err(AppError::forbidden());
        }
        let from = row.state.clone();
        if !matches!(from.as_str(), "pending" | "approved") {
            return Err(image_closed(&row));
        }
        let after = self
            .move_image(&mut tx, actor, &row, &from, "withdrawn", "")
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn move_image(
        &self,
        tx: &mut egov_store::Tx,
        actor: &Actor,
        row: &ImageRow,
        from: &str,
        to: &str,
        note: &str,
    ) -> Result<ImageRow, AppError> {
        if row.state != from
            || !store::set_state(tx, row.id, from, to, actor.person_id, note.trim(), now()).await?
        {
            return Err(image_closed(row));
        }
        let after = store::get(tx, row.id)
            .await?
            .ok_or_else(|| AppError::internal("the image vanished"))?;
        audit::event(&format!("signature_image.{to}"), "signature_image", row.id)
            .agency(Some(row.agency_id))
            .before(&row.view())
            .after(&after.view())
            .write(tx, actor)
            .await?;
        Ok(after)
    }

    /// The images the actor owns or uploaded, the seals of the agencies whose records office
    /// they are in, and the images of the agencies they administer.
    pub async fn signature_images(&self, actor: &Actor) -> Result<Vec<ImageRow>, AppError> {
        let mut ex = &self.db;
        let roles = [Role::Administrator, Role::RecordsClerk];
        let agencies = match authz::agencies_with(&mut ex, actor, &roles, self.now()).await? {
            Some(a) => a,
            None => ex
                .fetch_all::<(i64,)>(
                    "SELECT DISTINCT agency_id FROM signature_images",
                    egov_store::args![],
                )
                .await?
                .into_iter()
                .map(|r| r.0)
                .collect(),
        };
        Ok(store::list(&mut ex, actor.person_id, &agencies).await?)
    }

    /// An image's PNG, for its owner, the agency's records office and its administrators.
    pub async fn signature_image_png(
        &self,
        actor: &Actor,
        id: i64,
    ) -> Result<(ImageRow, Vec<u8>), AppError> {
        let mut ex = &self.db;
        let row = store::get(&mut ex, id)
            .await?
            .ok_or_else(|| AppError::not_found("signature image"))?;
        if !owns(actor, &row) {
            let roles: &[Role] = if row.kind == "seal" {
                &[Role::Administrator, Role::RecordsClerk]
            } else {
                &[Role::Administrator]
            };
            authz::require(&mut ex, actor, roles, Some(row.agency_id), None, self.now()).await?;
        }
        let bytes = self.read_blob(&row.sha256).await?;
        Ok((row, bytes))
    }

    /// The image to draw in a signature being made now: the person's own signature image, or
    /// the agency's seal; `None` when there is no approved one in its validity.
    pub(crate) async fn image_in_use(
        &self,
        ex: &mut impl Exec,
        kind: ImageKind,
        person_id: Option<i64>,
        agency_id: i64,
    ) -> Result<Option<(ImageRow, Png)>, AppError> {
        let person = match kind {
            ImageKind::Signature => match person_id {
                Some(p) => Some(p),
                None => return Ok(None),
            },
            ImageKind::Seal => None,
        };
        let Some(row) = store::in_use(ex, kind.as_str(), person, agency_id, now()).await? else {
            return Ok(None);
        };
        let bytes = self.read_blob(&row.sha256).await?;
        let png = decode_png(&bytes).map_err(AppError::internal)?;
        Ok(Some((row, png)))
    }
}

fn image_closed(row: &ImageRow) -> AppError {
    AppError::conflict(
        Code::ImageDecided,
        "This image has already been decided on or withdrawn; reload the list.",
    )
    .arg("state", &row.state)
}

impl App {
    /// Demo images, approved: a signature for every leader and a seal for every agency with a
    /// records office (drawn shapes, not anyone's). Skips owners that already have one.
    pub async fn demo_images(&self) -> Result<usize, AppError> {
        let mut ex = &self.db;
        let leaders: Vec<(i64, i64)> = ex
            .fetch_all(
                "SELECT person_id, MIN(agency_id) FROM role_grants WHERE role IN ('agency_leader', 'unit_leader') \
                 AND agency_id IS NOT NULL GROUP BY person_id ORDER BY person_id",
                egov_store::args![],
            )
            .await?;
        let offices: Vec<(i64,)> = ex
            .fetch_all(
                "SELECT DISTINCT agency_id FROM role_grants WHERE role = 'records_clerk' AND agency_id IS NOT NULL ORDER BY agency_id",
                egov_store::args![],
            )
            .await?;
        let owners = leaders
            .into_iter()
            .map(|(p, a)| (ImageKind::Signature, Some(p), a))
            .chain(offices.into_iter().map(|(a,)| (ImageKind::Seal, None, a)));
        let system = Actor::system("demo");
        let mut made = 0;
        for (kind, person, agency) in owners {
            if self
                .image_in_use(&mut ex, kind, person, agency)
                .await?
                .is_some()
            {
                continue;
            }
            let png = match kind {
                ImageKind::Signature => egov_pki::demo::signature_png(),
                ImageKind::Seal => egov_pki::demo::seal_png(),
            };
            let checked = check_image(kind, &png)?;
            let sha = self.put_blob(&png).await?;
            let t = now();
            let mut tx = self.db.begin().await?;
            egov_store::blobs::record(&mut tx, &sha, png.len() as i64, "image/png", t).await?;
            let id = store::insert(
                &mut tx,
                &NewImage {
                    kind: kind.as_str(),
                    person_id: person,
                    agency_id: agency,
                    sha256: &sha,
                    width_px: i64::from(checked.image.width),
                    height_px: i64::from(checked.image.height),
                    width_mm: kind.widths().0,
                    valid_from: t,
                    valid_to: None,
                    uploaded_by: None,
                    now: t,
                },
            )
            .await?;
            store::set_state(&mut tx, id, "pending", "approved", None, "demo", t).await?;
            audit::event("signature_image.approved", "signature_image", id)
                .agency(Some(agency))
                .write(&mut tx, &system)
                .await?;
            tx.commit().await?;
            made += 1;
        }
        Ok(made)
    }
}
