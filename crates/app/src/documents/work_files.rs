//! Work files (hồ sơ công việc): the agency's yearly list with retention periods, opening and
//! closing, a document in several files, and the transfer to the archive.

use crate::Code;
use egov_domain::documents::file::{FileAction, Retention, check_notation, file_code};
use egov_domain::org::Role;
use egov_store::documents::{self as store, DocumentRow, NewWorkFile, WorkFileRow};
use egov_store::{Exec, agencies};
use serde::Deserialize;

use super::incoming::ANY_OFFICE_ROLE;
use crate::error::OrNotFound;
use crate::views::AsView;
use crate::{Actor, App, AppError, audit};

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewFileCmd {
    pub agency_id: i64,
    pub year: i32,
    /// The file's number and notation on the list (`01.TCCB`).
    pub notation: String,
    #[serde(default)]
    pub heading: String,
    pub title: String,
    /// `permanent` or a number of years.
    pub retention: String,
    #[serde(default)]
    pub responsible_id: Option<i64>,
}

impl App {
    /// Adds a file to the agency's list for a year.
    pub async fn plan_work_file(
        &self,
        actor: &Actor,
        cmd: NewFileCmd,
    ) -> Result<WorkFileRow, AppError> {
        let notation = cmd.notation.trim();
        check_notation(notation).map_err(|e| {
            AppError::invalid(Code::BadFileNotation, e.to_string())
                .arg("value", notation.to_owned())
        })?;
        let retention = Retention::parse(&cmd.retention).ok_or_else(|| {
            AppError::invalid(
                Code::BadRetention,
                "The retention is \"permanent\" or a number of years from 1 to 100.",
            )
        })?;
        let title = cmd.title.trim();
        if title.is_empty() || title.chars().count() > 500 {
            return Err(AppError::invalid(
                Code::BadTitle,
                "The file's title is required, at most 500 characters.",
            ));
        }
        if !(2000..=2200).contains(&cmd.year) {
            return Err(
                AppError::invalid(Code::BadYear, "That year is out of range.")
                    .arg("value", cmd.year),
            );
        }
        let mut tx = self.db.begin().await?;
        self.require_in(
            &mut tx,
            actor,
            &[Role::RecordsClerk, Role::AgencyLeader, Role::UnitLeader],
            cmd.agency_id,
        )
        .await?;
        let agency = agencies::get(&mut tx, cmd.agency_id).await?;
        let code = file_code(&agency.code, cmd.year, notation);
        let exists: i64 = tx
            .scalar(
                "SELECT COUNT(*) FROM work_files WHERE code = $1",
                egov_store::args![code.as_str()],
            )
            .await?;
        if exists > 0 {
            return Err(
                AppError::conflict(Code::FileExists, "That file is on the list already.")
                    .arg("value", code),
            );
        }
        let id = store::insert_work_file(
            &mut tx,
            &NewWorkFile {
                agency_id: agency.id,
                year: cmd.year,
                notation,
                code: &code,
                heading: cmd.heading.trim(),
                title,
                retention: &retention.as_text(),
                responsible_id: cmd.responsible_id,
            },
            self.now(),
        )
        .await?;
        let f = store::get_work_file(&mut tx, id).await?;
        audit::event("work_file.plan", "work_file", id)
            .agency(Some(agency.id))
            .after(&f.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(f)
    }

    /// `open`, `close`, `reopen` or `archive` a file.
    pub async fn act_on_work_file(
        &self,
        actor: &Actor,
        id: i64,
        action: FileAction,
    ) -> Result<WorkFileRow, AppError> {
        let mut tx = self.db.begin().await?;
        let f = store::get_work_file(&mut tx, id)
            .await
            .or_not_found("work_file")?;
        if !self
            .holds_in(&mut tx, actor, &ANY_OFFICE_ROLE, f.agency_id)
            .await?
        {
            return Err(AppError::not_found("work_file"));
        }
        let roles: &[Role] = if action == FileAction::Archive {
            &[Role::RecordsClerk]
        } else {
            &[
                Role::RecordsClerk,
                Role::Specialist,
                Role::UnitLeader,
                Role::AgencyLeader,
            ]
        };
        self.require_in(&mut tx, actor, roles, f.agency_id).await?;
        let from = f.state;
        let to = from.next(action).ok_or_else(|| {
            AppError::conflict(
                Code::IllegalTransition,
                format!("A {} file cannot be {}d.", f.state, action.as_str()),
            )
            .arg("state", f.state)
            .arg("event", action.as_str())
        })?;
        if !store::set_work_file_state(&mut tx, id, from.as_str(), to.as_str(), self.now()).await? {
            return Err(super::changed());
        }
        let after = store::get_work_file(&mut tx, id).await?;
        audit::event(&format!("work_file.{}", action.as_str()), "work_file", id)
            .agency(Some(f.agency_id))
            .before(&f.view())
            .after(&after.view())
            .write(&mut tx, actor)
            .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Puts a document the person may see into an open file of their agency.
    pub async fn file_document(
        &self,
        actor: &Actor,
        file_id: i64,
        document_id: i64,
    ) -> Result<WorkFileRow, AppError> {
        let mut tx = self.db.begin().await?;
        let f = store::get_work_file(&mut tx, file_id)
            .await
            .or_not_found("work_file")?;
        if !self
            .holds_in(&mut tx, actor, &ANY_OFFICE_ROLE, f.agency_id)
            .await?
        {
            return Err(AppError::not_found("work_file"));
        }
        let d = self.visible_document(&mut tx, actor, document_id).await?;
        if !f.state.accepts_documents() {
            return Err(AppError::conflict(
                Code::FileNotOpen,
                "Documents are added to open files only.",
            ));
        }
        if !store::add_to_file(&mut tx, file_id, document_id, actor.person_id, self.now()).await? {
            return Err(AppError::conflict(
                Code::AlreadyInFile,
                "The document is in this file already.",
            ));
        }
        audit::event("work_file.add_document", "work_file", file_id)
            .agency(Some(f.agency_id))
            .after(&serde_json::json!({ "document_id": d.id }))
            .write(&mut tx, actor)
            .await?;
        let after = store::get_work_file(&mut tx, file_id).await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn work_file_list(
        &self,
        actor: &Actor,
        agency_id: i64,
        year: i32,
    ) -> Result<Vec<WorkFileRow>, AppError> {
        let mut ex = &self.db;
        self.require_in(&mut ex, actor, &ANY_OFFICE_ROLE, agency_id)
            .await?;
        Ok(store::work_files(&mut ex, agency_id, year).await?)
    }

    pub async fn work_file_documents(
        &self,
        actor: &Actor,
        file_id: i64,
    ) -> Result<(WorkFileRow, Vec<DocumentRow>), AppError> {
        let mut ex = &self.db;
        let f = store::get_work_file(&mut ex, file_id)
            .await
            .or_not_found("work_file")?;
        if !self
            .holds_in(&mut ex, actor, &ANY_OFFICE_ROLE, f.agency_id)
            .await?
        {
            return Err(AppError::not_found("work_file"));
        }
        let docs = store::file_documents(&mut ex, file_id).await?;
        Ok((f, docs))
    }
}
