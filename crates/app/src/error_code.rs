//! The stable error codes: what clients and translations key on. One variant per code; the
//! translation test iterates [`Code::ALL`], so a code without a message in both languages
//! fails the build's tests, and a code cannot be misspelt at the place that raises it.

use serde::{Serialize, Serializer};

macro_rules! codes {
    ($($variant:ident = $text:literal,)*) => {
        /// A stable error code (`snake_case` on the wire).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $($variant,)*
        }

        impl Code {
            /// Every code, for the translation test and the API documentation.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as clients see it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    AccountLocked = "account_locked",
    AgencyNotCurrent = "agency_not_current",
    AgencyRequired = "agency_required",
    AlreadyInFile = "already_in_file",
    AmountRequired = "amount_required",
    ApologyTooLate = "apology_too_late",
    ApplicantExists = "applicant_exists",
    ApplicantRequired = "applicant_required",
    AssigneeCannotAct = "assignee_cannot_act",
    AttachmentUnsealable = "attachment_unsealable",
    BadAgency = "bad_agency",
    BadAgencyCode = "bad_agency_code",
    BadAgencyName = "bad_agency_name",
    BadApplicantKind = "bad_applicant_kind",
    BadCatalogue = "bad_catalogue",
    BadCertificate = "bad_certificate",
    BadChannel = "bad_channel",
    BadConfig = "bad_config",
    BadDate = "bad_date",
    BadDayKind = "bad_day_kind",
    BadDayName = "bad_day_name",
    BadDeadline = "bad_deadline",
    BadDecision = "bad_decision",
    BadDelegationKind = "bad_delegation_kind",
    BadEmail = "bad_email",
    BadEvent = "bad_event",
    BadFileNotation = "bad_file_notation",
    BadFileRole = "bad_file_role",
    BadFormat = "bad_format",
    BadFullName = "bad_full_name",
    BadId = "bad_id",
    BadIdempotencyKey = "bad_idempotency_key",
    BadImageKind = "bad_image_kind",
    BadLimit = "bad_limit",
    BadMonth = "bad_month",
    BadNotation = "bad_notation",
    BadOfficeHours = "bad_office_hours",
    BadPaymentMethod = "bad_payment_method",
    BadPeriod = "bad_period",
    BadPhone = "bad_phone",
    BadPosition = "bad_position",
    BadProcedure = "bad_procedure",
    BadProcess = "bad_process",
    BadPurpose = "bad_purpose",
    BadReplacement = "bad_replacement",
    BadReply = "bad_reply",
    BadRequest = "bad_request",
    BadResult = "bad_result",
    BadRetention = "bad_retention",
    BadRole = "bad_role",
    BadRules = "bad_rules",
    BadSecrecy = "bad_secrecy",
    BadSeriesMode = "bad_series_mode",
    BadShortName = "bad_short_name",
    BadSignatureValue = "bad_signature_value",
    BadSubject = "bad_subject",
    BadSubscriber = "bad_subscriber",
    BadSuccessionKind = "bad_succession_kind",
    BadTitle = "bad_title",
    BadUnitKind = "bad_unit_kind",
    BadUnitName = "bad_unit_name",
    BadUpload = "bad_upload",
    BadUrgency = "bad_urgency",
    BadUrl = "bad_url",
    BadUsername = "bad_username",
    BadYear = "bad_year",
    BirthYearMismatch = "birth_year_mismatch",
    BodyTooLarge = "body_too_large",
    CertificateNotSigner = "certificate_not_signer",
    CommentsRequired = "comments_required",
    ConversionUnavailable = "conversion_unavailable",
    CsrfFailed = "csrf_failed",
    DateOutOfRange = "date_out_of_range",
    DayOutsideYear = "day_outside_year",
    DelegationAlreadyRevoked = "delegation_already_revoked",
    DelegationEmptyPeriod = "delegation_empty_period",
    DelegationExpired = "delegation_expired",
    DelegationNoSubdelegation = "delegation_no_subdelegation",
    DelegationNotHead = "delegation_not_head",
    DelegationOutsideAgency = "delegation_outside_agency",
    DelegationOverlap = "delegation_overlap",
    DelegationToSelf = "delegation_to_self",
    DisguisedFile = "disguised_file",
    DocumentChanged = "document_changed",
    DocumentNotEditable = "document_not_editable",
    DossierChanged = "dossier_changed",
    DraftConversionFailed = "draft_conversion_failed",
    DatabaseUnavailable = "database_unavailable",
    Duplicate = "duplicate",
    DuplicateDay = "duplicate_day",
    EmptyFile = "empty_file",
    FileExists = "file_exists",
    FileNotOpen = "file_not_open",
    FileRequired = "file_required",
    FileTooLarge = "file_too_large",
    Forbidden = "forbidden",
    FormNotForState = "form_not_for_state",
    FormNotInSet = "form_not_in_set",
    HubUnreachable = "hub_unreachable",
    IdempotencyKeyReused = "idempotency_key_reused",
    IdentifierExhausted = "identifier_exhausted",
    IdentifierNotRegistered = "identifier_not_registered",
    IdentifierTaken = "identifier_taken",
    IdentifierUnknownProvince = "identifier_unknown_province",
    IllegalTransition = "illegal_transition",
    ImageDecided = "image_decided",
    ImageNotBlue = "image_not_blue",
    ImageNotPng = "image_not_png",
    ImageNotRed = "image_not_red",
    ImageNotTransparent = "image_not_transparent",
    ImageOwnUpload = "image_own_upload",
    ImageOwnerRequired = "image_owner_required",
    ImageSizeInvalid = "image_size_invalid",
    ImageTooLarge = "image_too_large",
    ImportBadHeader = "import_bad_header",
    ImportBadRow = "import_bad_row",
    ImportEmpty = "import_empty",
    ImportOrphanUnit = "import_orphan_unit",
    Internal = "internal",
    ItemsRequired = "items_required",
    JobNotDead = "job_not_dead",
    LeadRequired = "lead_required",
    LimitRequired = "limit_required",
    LookupIncomplete = "lookup_incomplete",
    LookupNoMatch = "lookup_no_match",
    MainFileRequired = "main_file_required",
    MakeupNotWeekend = "makeup_not_weekend",
    MethodNotAllowed = "method_not_allowed",
    NationalDisabled = "national_disabled",
    NewDateRequired = "new_date_required",
    NewDateTooEarly = "new_date_too_early",
    NoNextStep = "no_next_step",
    NoProcess = "no_process",
    NoRecall = "no_recall",
    NoSigningAuthority = "no_signing_authority",
    NotAPdfFile = "not_a_pdf_file",
    NotForSubmission = "not_for_submission",
    NotFound = "not_found",
    NotLegalKind = "not_legal_kind",
    NotOutgoing = "not_outgoing",
    NotReceivableHere = "not_receivable_here",
    NotSignedIn = "not_signed_in",
    NothingOwed = "nothing_owed",
    NothingRefused = "nothing_refused",
    NothingToPay = "nothing_to_pay",
    NothingToPublish = "nothing_to_publish",
    NulCharacter = "nul_character",
    NumberTaken = "number_taken",
    OutsideRecipientUnknown = "outside_recipient_unknown",
    PageNotFound = "page_not_found",
    PassportCountry = "passport_country",
    PassportNumber = "passport_number",
    PasswordTooLong = "password_too_long",
    PasswordTooShort = "password_too_short",
    PasswordWrong = "password_wrong",
    PauseEndsBeforeStart = "pause_ends_before_start",
    PausesOverlap = "pauses_overlap",
    PaymentMismatch = "payment_mismatch",
    PaymentWithReceipt = "payment_with_receipt",
    PdfEncrypted = "pdf_encrypted",
    PdfMalformed = "pdf_malformed",
    PdfNotPdf = "pdf_not_pdf",
    PdfTooComplex = "pdf_too_complex",
    PdfUnstampable = "pdf_unstampable",
    PeriodTooLong = "period_too_long",
    PersonInactive = "person_inactive",
    PersonOfOtherAgency = "person_of_other_agency",
    PersonRequired = "person_required",
    PersonalIdCentury = "personal_id_century",
    PersonalIdFormat = "personal_id_format",
    PersonalIdProvince = "personal_id_province",
    ProcedureNotInForce = "procedure_not_in_force",
    ProcedureVersionExists = "procedure_version_exists",
    ProcessAllotmentsTooLong = "process_allotments_too_long",
    ProcessLimitTooLong = "process_limit_too_long",
    ProcessVersionExists = "process_version_exists",
    PurposeObjectRequired = "purpose_object_required",
    PurposeRequired = "purpose_required",
    ReasonRequired = "reason_required",
    ReasonsRequired = "reasons_required",
    RecipientEnded = "recipient_ended",
    RecipientTwice = "recipient_twice",
    RequestAnswerLost = "request_answer_lost",
    RequestInProgress = "request_in_progress",
    ReservationMismatch = "reservation_mismatch",
    ReturnedToRequired = "returned_to_required",
    RoleAlreadyEnded = "role_already_ended",
    RoleAlreadyGranted = "role_already_granted",
    ScorecardDuplicate = "scorecard_duplicate",
    ScorecardGroupSum = "scorecard_group_sum",
    ScorecardNoSuchGroup = "scorecard_no_such_group",
    ScorecardOutOfRange = "scorecard_out_of_range",
    ScorecardTotalSum = "scorecard_total_sum",
    ScorecardUnknownCount = "scorecard_unknown_count",
    ScorecardUnreadable = "scorecard_unreadable",
    SealUnavailable = "seal_unavailable",
    SecondApology = "second_apology",
    SecretNoContent = "secret_no_content",
    SecretNotAllowed = "secret_not_allowed",
    SenderRequired = "sender_required",
    SignInFailed = "sign_in_failed",
    SignatureBusy = "signature_busy",
    SignatureClosed = "signature_closed",
    SignatureMismatch = "signature_mismatch",
    SignatureNotPrepared = "signature_not_prepared",
    SignatureNotValid = "signature_not_valid",
    SignaturePending = "signature_pending",
    SignaturePositionInvalid = "signature_position_invalid",
    SignatureTooLarge = "signature_too_large",
    SignerRequired = "signer_required",
    SigningCertificateUnusable = "signing_certificate_unusable",
    SigningKeyUnusable = "signing_key_unusable",
    StepsLeft = "steps_left",
    StorageUnavailable = "storage_unavailable",
    TaxCodeBranch = "tax_code_branch",
    TaxCodeCheckDigit = "tax_code_check_digit",
    TaxCodeFormat = "tax_code_format",
    Timeout = "timeout",
    TimestampFailed = "timestamp_failed",
    TokenError = "token_error",
    TokenPinIncorrect = "token_pin_incorrect",
    TokenPinLocked = "token_pin_locked",
    TooManyLookups = "too_many_lookups",
    TooManyLookupsForCode = "too_many_lookups_for_code",
    TooManySignIns = "too_many_sign_ins",
    TotpAlreadyEnabled = "totp_already_enabled",
    TotpNotEnabled = "totp_not_enabled",
    TotpSetupNotStarted = "totp_setup_not_started",
    TotpWrong = "totp_wrong",
    UnitClosed = "unit_closed",
    UnitExists = "unit_exists",
    UnitOfOtherAgency = "unit_of_other_agency",
    UnitOutsideAgency = "unit_outside_agency",
    UnknownComponent = "unknown_component",
    UnknownDocumentKind = "unknown_document_kind",
    UnknownIndicator = "unknown_indicator",
    UnknownRecipient = "unknown_recipient",
    UnknownScan = "unknown_scan",
    UnknownUnit = "unknown_unit",
    UnsupportedFileType = "unsupported_file_type",
    UnsupportedMediaType = "unsupported_media_type",
    UsernameTaken = "username_taken",
    ValidityInvalid = "validity_invalid",
    WrongCompetentAgency = "wrong_competent_agency",
    WrongFileType = "wrong_file_type",
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl PartialEq<str> for Code {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::Code;

    #[test]
    fn codes_are_distinct_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit()),
                "{s} is not snake_case"
            );
        }
        assert_eq!(seen.len(), Code::ALL.len());
    }
}
