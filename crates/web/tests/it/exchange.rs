//! The local document exchange hub over HTTP, driven through egov's hub client as two agencies
//! would: a document sent and received re-serialised, its transport status reported, a status
//! packet routed back to the sender; and what the hub refuses — a bad signature, a stale call,
//! an unknown system or recipient, a packet that is not one, another agency's delivery.

use std::collections::BTreeMap;

use bytes::Bytes;
use egov_app::exchange::transport::{
    Connected, HubClient, HubConfig, MessageType, Transport, TransportError,
};
use egov_edxml::*;
use egov_web::exchange_hub::{HubMode, LocalHub};
use time::macros::{date, datetime};

const THANH_HOA: &str = "000.00.00.H56";
const HOME_AFFAIRS: &str = "000.00.00.G09";

async fn hub() -> (LocalHub, String, tokio::sync::oneshot::Sender<()>) {
    let hub = LocalHub::new(
        BTreeMap::from([
            ("egov-thanhhoa".to_string(), "s3cret-th".to_string()),
            ("bnv".to_string(), "s3cret-bnv".to_string()),
        ]),
        vec![
            Connected {
                code: THANH_HOA.into(),
                name: "UBND tỉnh Thanh Hóa".into(),
                parent: None,
            },
            Connected {
                code: HOME_AFFAIRS.into(),
                name: "Bộ Nội vụ".into(),
                parent: None,
            },
        ],
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(hub.clone().serve(listener, async {
        let _ = rx.await;
    }));
    (hub, base, tx)
}

fn client(base: &str, system: &str, secret: &str) -> HubClient {
    HubClient::new(HubConfig {
        url: base.into(),
        system_id: system.into(),
        secret: secret.into(),
        timeout_seconds: 2,
        ..HubConfig::default()
    })
}

fn letter() -> (DocumentPacket, Vec<u8>) {
    let code = DocumentCode {
        number: "4521".into(),
        notation: "UBND-NC".into(),
    };
    let doc = DocumentPacket {
        header: MessageHeader {
            from: Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa"),
            to: vec![Organ::new(HOME_AFFAIRS, "Bộ Nội vụ")],
            document_id: document_id(THANH_HOA, date!(2026 - 12 - 07), &code),
            code,
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_type: DocumentType {
                code: "2".into(),
                name: "Công văn".into(),
                detail: String::new(),
            },
            subject: "V/v báo cáo sắp xếp đơn vị hành chính cấp xã".into(),
            steering_type: "0".into(),
            ..MessageHeader::default()
        },
        trace: vec![TraceHeader {
            organ_id: Some(THANH_HOA.into()),
            timestamp: Some(datetime!(2026-12-07 10:00:00)),
        }],
        attachments: vec![Attachment {
            name: "4521-UBND-NC.pdf".into(),
            content_type: "application/pdf".into(),
            content_id: "main".into(),
            ..Attachment::default()
        }],
        ..DocumentPacket::default()
    };
    (doc, b"%PDF-1.7\n% signed\n%%EOF\n".to_vec())
}

#[tokio::test]
async fn a_document_and_its_status_go_through_the_hub_re_serialised() {
    let (hub, base, _stop) = hub().await;
    let thanh_hoa = client(&base, "egov-thanhhoa", "s3cret-th");
    let ministry = client(&base, "bnv", "s3cret-bnv");

    let directory = thanh_hoa.agencies().await.unwrap();
    assert_eq!(directory.len(), 2);

    let (doc, pdf) = letter();
    let packet = document_to_vec(&doc, &[&pdf]).unwrap();
    let id = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, Bytes::from(packet.clone()))
        .await
        .unwrap();
    assert!(!id.is_empty());

    // The ministry finds it waiting, fetches it and reads the hub's re-serialisation.
    let waiting = ministry
        .received(HOME_AFFAIRS, MessageType::Edoc)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].from, THANH_HOA);
    let got = ministry.get(HOME_AFFAIRS, &waiting[0].id).await.unwrap();
    assert_ne!(got.as_ref(), packet.as_slice(), "the hub re-serialises");
    let text = String::from_utf8(got.to_vec()).unwrap();
    assert!(
        text.find("<edXML:DocumentId>") < text.find("<edXML:Code>"),
        "reordered"
    );
    assert!(text.contains("<edXML:ResponseFor/>"));
    let mut sink = MemorySink::default();
    let reading = read_slice(&got, &Limits::default(), &mut sink).unwrap();
    let Packet::Document(d) = reading.packet else {
        panic!("a document")
    };
    assert_eq!(
        d.header.document_id, doc.header.document_id,
        "same DocumentId"
    );
    assert_eq!(
        d.header.response_for,
        vec![],
        "the empty ResponseFor is nothing"
    );
    assert_eq!(d.trace.len(), 2, "the hub's hop appended");
    assert_eq!(d.trace[1].organ_id, None);
    assert_eq!(sink.files, vec![pdf]);

    // Thanh Hóa cannot take the ministry's delivery.
    let err = thanh_hoa.get(THANH_HOA, &waiting[0].id).await.unwrap_err();
    assert_eq!(err.code(), "unknown_doc");

    // Done: it no longer waits.
    ministry
        .update_status(HOME_AFFAIRS, &waiting[0].id, true)
        .await
        .unwrap();
    assert!(
        ministry
            .received(HOME_AFFAIRS, MessageType::Edoc)
            .await
            .unwrap()
            .is_empty()
    );

    // The ministry's status 03 goes back to the sender.
    let status = StatusPacket {
        from: Organ::new(HOME_AFFAIRS, "Bộ Nội vụ"),
        response_for: ResponseFor {
            organ_id: THANH_HOA.into(),
            code: "4521/UBND-NC".into(),
            promulgation_date: Some(date!(2026 - 12 - 07)),
            document_id: doc.header.document_id.clone(),
        },
        staff: StaffInfo::default(),
        status: StatusCode::Registered,
        description: "Đã vào sổ văn bản đến số 812".into(),
        timestamp: Some(datetime!(2026-12-07 10:05:00)),
    };
    ministry
        .send(
            HOME_AFFAIRS,
            MessageType::Status,
            Bytes::from(status_to_vec(&status).unwrap()),
        )
        .await
        .unwrap();
    let back = thanh_hoa
        .received(THANH_HOA, MessageType::Status)
        .await
        .unwrap();
    assert_eq!(back.len(), 1);
    let got = thanh_hoa.get(THANH_HOA, &back[0].id).await.unwrap();
    let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
    assert_eq!(reading.packet, Packet::Status(Box::new(status)));
    assert_eq!(hub.state()["sent"], 2);
}

#[tokio::test]
async fn the_hub_refuses_what_it_should() {
    let (hub, base, _stop) = hub().await;
    let (doc, pdf) = letter();
    let packet = Bytes::from(document_to_vec(&doc, &[&pdf]).unwrap());

    let forged = client(&base, "egov-thanhhoa", "guessed");
    let err = forged
        .send(THANH_HOA, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_signature");
    let stranger = client(&base, "someone", "x");
    assert_eq!(
        stranger.agencies().await.unwrap_err().code(),
        "unknown_system"
    );

    let thanh_hoa = client(&base, "egov-thanhhoa", "s3cret-th");
    // Sending in another agency's name.
    let err = thanh_hoa
        .send(HOME_AFFAIRS, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "from_mismatch");
    // A recipient the hub does not connect.
    let (mut other, _) = letter();
    other.header.to = vec![Organ::new("000.00.00.H41", "UBND tỉnh Nghệ An")];
    let err = thanh_hoa
        .send(
            THANH_HOA,
            MessageType::Edoc,
            Bytes::from(document_to_vec(&other, &[&pdf]).unwrap()),
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), "unknown_recipient");
    // Not a packet; a document declared as a status.
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, Bytes::from_static(b"<html/>"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), "bad_packet");
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Status, packet.clone())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "messagetype_mismatch");
    assert_eq!(
        hub.state()["queues"].as_object().map(|q| q.len()),
        Some(0),
        "nothing was queued"
    );

    // Down: the client says the call was not handled; the hub answered 503.
    hub.set_mode(HubMode {
        down: true,
        ..HubMode::default()
    });
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, packet.clone())
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NoAnswer(_)), "{err:?}");
    // Handled, then the answer lost: the client cannot know, and says so.
    hub.set_mode(HubMode {
        lose_answers: 1,
        ..HubMode::default()
    });
    let err = thanh_hoa
        .send(THANH_HOA, MessageType::Edoc, packet)
        .await
        .unwrap_err();
    assert!(matches!(err, TransportError::NoAnswer(_)), "{err:?}");
    assert_eq!(hub.state()["sent"], 1, "the hub did take it");
}

// --- an issued document sent to an agency outside, through the hub --------------------------

async fn issue_to(
    app: &egov_app::App,
    outside: &str,
    subject: &str,
) -> egov_store::documents::DocumentRow {
    issue_with(app, outside, subject, None).await
}

/// As [`issue_to`], the document replacing `replaces` when given.
async fn issue_with(
    app: &egov_app::App,
    outside: &str,
    subject: &str,
    replaces: Option<i64>,
) -> egov_store::documents::DocumentRow {
    use egov_app::documents::RecipientInput;
    use egov_app::documents::outgoing::{DraftCmd, OutAction};
    let act =
        |event: &str, version: i64| OutAction::parse(event, version, String::new(), None).unwrap();
    let drafter = app.actor_by_username("chuyenvien.snv").await.unwrap();
    let snv = agency_of(app, "chuyenvien.snv").await;
    let d = app
        .create_draft(
            &drafter,
            DraftCmd {
                agency_id: snv,
                kind: "official_letter".into(),
                subject: subject.into(),
                recipients: vec![RecipientInput {
                    agency_id: None,
                    external_code: Some(outside.into()),
                    name: Some("Bộ Nội vụ".into()),
                    addressed: true,
                }],
                recipients_text: "- Bộ Nội vụ;\n- Lưu: VT, TCBC.".into(),
                replaces_id: replaces,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    app.add_document_file(
        &drafter,
        d.id,
        "main",
        "du-thao.pdf",
        Some("application/pdf"),
        include_bytes!("draft.pdf").to_vec(),
    )
    .await
    .unwrap();
    let reload = |id| async move {
        egov_store::documents::get_document(&mut app.db(), id)
            .await
            .unwrap()
    };
    let d = reload(d.id).await;
    let d = app
        .act_on_document(&drafter, d.id, act("submit", d.version))
        .await
        .unwrap();
    let head = app.actor_by_username("truongphong.snv").await.unwrap();
    let d = app
        .act_on_document(&head, d.id, act("approve", d.version))
        .await
        .unwrap();
    let leader = app.actor_by_username("giamdoc.snv").await.unwrap();
    let d = app
        .act_on_document(&leader, d.id, act("sign_off", d.version))
        .await
        .unwrap();
    let clerk = app.actor_by_username("vanthu.snv").await.unwrap();
    app.act_on_document(&clerk, d.id, act("issue", d.version))
        .await
        .unwrap();
    reload(d.id).await
}

async fn agency_of(app: &egov_app::App, user: &str) -> i64 {
    let a = app.actor_by_username(user).await.unwrap();
    egov_store::org::postings_of(&mut app.db(), a.person_id.unwrap(), Some(egov_store::now()))
        .await
        .unwrap()[0]
        .agency_id
}

/// What waits for the ministry among status packets, and the last of them as read.
async fn last_status(
    ministry: &HubClient,
) -> (Vec<egov_app::exchange::transport::Waiting>, StatusPacket) {
    let back = ministry
        .received(HOME_AFFAIRS, MessageType::Status)
        .await
        .unwrap();
    let got = ministry
        .get(HOME_AFFAIRS, &back.last().expect("a status waits").id)
        .await
        .unwrap();
    let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
    let Packet::Status(st) = reading.packet else {
        panic!("a status")
    };
    (back, *st)
}

/// A deployment exchanging through the hub at `base` as system `egov-thanhhoa` (settings
/// tweaked by `tweak`), its Department of Home Affairs' identifier official and connected to
/// the hub: the deployment and the department.
async fn connected(
    db: egov_store::Db,
    hub: &LocalHub,
    base: &str,
    tweak: impl FnOnce(&mut egov_app::Settings),
) -> (crate::Running, egov_store::agencies::Agency) {
    let r = crate::start(db, |s| {
        s.exchange.enabled = true;
        s.exchange.hub = HubConfig {
            url: base.into(),
            system_id: "egov-thanhhoa".into(),
            secret: "s3cret-th".into(),
            timeout_seconds: 2,
            ..HubConfig::default()
        };
        tweak(s);
    })
    .await;
    let snv = agency_of(&r.app, "chuyenvien.snv").await;
    {
        use egov_store::Exec;
        (r.app.db())
            .execute(
                "UPDATE agencies SET code_source = 'official' WHERE id = $1",
                egov_store::args![snv],
            )
            .await
            .unwrap();
    }
    let sender = egov_store::agencies::get(&mut r.app.db(), snv)
        .await
        .unwrap();
    hub.register(Connected {
        code: sender.code.clone(),
        name: sender.name.clone(),
        parent: Some(THANH_HOA.into()),
    });
    (r, sender)
}

/// Runs the worker until no job is due.
async fn drain(app: &std::sync::Arc<egov_app::App>) {
    let worker = egov_app::jobs::Worker::new(app.clone());
    for _ in 0..50 {
        if !worker.run_once().await.unwrap() {
            return;
        }
    }
}

crate::both!(
    an_issued_document_reaches_an_agency_outside_through_the_hub_once,
    |db| {
        let (hub, base, _stop) = hub().await;
        let r = crate::start(db, |s| {
            s.exchange.enabled = true;
            s.exchange.hub = HubConfig {
                url: base.clone(),
                system_id: "egov-thanhhoa".into(),
                secret: "s3cret-th".into(),
                timeout_seconds: 2,
                ..HubConfig::default()
            };
        })
        .await;
        let app = &r.app;
        let snv = agency_of(app, "chuyenvien.snv").await;
        let sender = egov_store::agencies::get(&mut app.db(), snv).await.unwrap();
        hub.register(Connected {
            code: sender.code.clone(),
            name: sender.name.clone(),
            parent: Some(THANH_HOA.into()),
        });
        let mark = |source: &'static str| {
            let app = app.clone();
            async move {
                use egov_store::Exec;
                (app.db())
                    .execute(
                        "UPDATE agencies SET code_source = $1 WHERE id = $2",
                        egov_store::args![source, snv],
                    )
                    .await
                    .unwrap();
            }
        };

        // An identifier allocated here cannot travel: the message log says why, nothing is sent.
        mark("local").await;
        let first = issue_to(app, HOME_AFFAIRS, "V/v báo cáo biên chế năm 2026").await;
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), first.id)
            .await
            .unwrap();
        assert_eq!(log.len(), 1);
        assert_eq!(log[0].state, "refused");
        assert!(
            log[0]
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains(&sender.code),
            "{log:?}"
        );
        assert_eq!(hub.state()["sent"], 0);

        // Official (as importing the province's list makes it): the next document goes —
        // the hub's directory, fetched now, knows it.
        mark("official").await;
        let hub_client = client(&base, "egov-thanhhoa", "s3cret-th");
        let (listed, matched) = app.import_directory(&hub_client).await.unwrap();
        assert_eq!(listed, 3);
        assert!(
            matched >= 2,
            "the province and the department are ours: {matched}"
        );
        let d = issue_to(app, HOME_AFFAIRS, "V/v cử cán bộ tham dự tập huấn").await;
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(log[0].state, "sent", "{log:?}");
        assert_eq!(log[0].counterpart, HOME_AFFAIRS);
        let packet_id = format!(
            "{},{},{}",
            sender.code,
            egov_edxml::dates::format_date(d.issued_on.unwrap()),
            d.notation.clone().unwrap()
        );
        assert_eq!(log[0].packet_document_id, packet_id);
        // The packet sent is kept as the evidence.
        let kept = app
            .blobs
            .get(log[0].packet_sha.as_deref().unwrap())
            .await
            .unwrap();
        assert!(String::from_utf8_lossy(&kept).contains(&packet_id));

        // The ministry receives it, with the signed main file.
        let ministry = client(&base, "bnv", "s3cret-bnv");
        let waiting = ministry
            .received(HOME_AFFAIRS, MessageType::Edoc)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 1);
        let got = ministry.get(HOME_AFFAIRS, &waiting[0].id).await.unwrap();
        let mut sink = MemorySink::default();
        let reading = read_slice(&got, &Limits::default(), &mut sink).unwrap();
        let Packet::Document(p) = reading.packet else {
            panic!("a document")
        };
        assert_eq!(p.header.document_id, packet_id);
        assert_eq!(p.header.subject, "V/v cử cán bộ tham dự tập huấn");
        assert_eq!(
            egov_store::blobs::BlobStore::digest(&sink.files[0]),
            d.main_sha.clone().unwrap(),
            "the issued main file"
        );

        // The job run again (a crash after sending) sends nothing twice.
        let again = egov_app::exchange::send::SendJob {
            document_id: d.id,
            action: "new".into(),
            to: HOME_AFFAIRS.into(),
            reason: String::new(),
            sequence: 0,
        };
        let sent = app.send_outside(&hub_client, &again).await.unwrap();
        assert_eq!(
            sent,
            egov_app::exchange::send::Sent::Sent(log[0].remote_id.clone().unwrap())
        );
        assert_eq!(hub.state()["sent"], 1);

        // The hub takes the next document and its answer is lost: the message fails with no
        // answer; sent again, egov first asks the hub what it took, finds it there and does not
        // send it twice.
        hub.set_mode(HubMode {
            lose_answers: 1,
            ..HubMode::default()
        });
        let lost = issue_to(app, HOME_AFFAIRS, "V/v góp ý dự thảo quy chế").await;
        drain(&r.app).await;
        let log_lost = egov_store::exchange::of_document(&mut app.db(), lost.id)
            .await
            .unwrap();
        assert_eq!(log_lost[0].state, "failed", "{log_lost:?}");
        assert!(
            log_lost[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("no answer")),
            "{log_lost:?}"
        );
        assert_eq!(hub.state()["sent"], 2, "the hub did take it");
        let retry = egov_app::exchange::send::SendJob {
            document_id: lost.id,
            ..again.clone()
        };
        let found = app.send_outside(&hub_client, &retry).await.unwrap();
        let egov_app::exchange::send::Sent::Sent(remote) = found else {
            panic!("{found:?}")
        };
        assert_eq!(hub.state()["sent"], 2, "not sent twice");
        let log_lost = egov_store::exchange::of_document(&mut app.db(), lost.id)
            .await
            .unwrap();
        assert_eq!(log_lost[0].state, "sent");
        assert_eq!(log_lost[0].remote_id.as_deref(), Some(remote.as_str()));
        let waiting = ministry
            .received(HOME_AFFAIRS, MessageType::Edoc)
            .await
            .unwrap();
        assert_eq!(waiting.len(), 2, "the ministry has it once");
        ministry
            .update_status(HOME_AFFAIRS, &remote, true)
            .await
            .unwrap();

        // The operator's page lists the message and gives the packet as evidence; a clerk
        // may not see it.
        let mut c = r.client();
        c.sign_in("admin", &r.password("admin"), Some(&r.totp_secret("admin")))
            .await;
        let page = c.get("/admin/exchange").await;
        assert_eq!(page.status, axum::http::StatusCode::OK);
        assert!(page.body.contains(&packet_id), "the log lists the packet");
        let packet = c
            .get(&format!("/admin/exchange/{}/packet", log[0].id))
            .await;
        assert_eq!(packet.status, axum::http::StatusCode::OK);
        assert!(packet.body.contains(&packet_id));
        let mut clerk_client = r.client();
        clerk_client
            .sign_in("vanthu.snv", &r.password("vanthu.snv"), None)
            .await;
        assert_eq!(
            clerk_client.get("/admin/exchange").await.status,
            axum::http::StatusCode::FORBIDDEN
        );

        // The directory on its page (the hub's agencies, ours matched), fetched again by hand;
        // the clerk may not see it.
        let dir = c.get("/admin/exchange/directory").await;
        assert_eq!(dir.status, axum::http::StatusCode::OK);
        assert!(dir.body.contains(HOME_AFFAIRS) && dir.body.contains("Bộ Nội vụ"));
        let fetched = c
            .post_form("/admin/exchange/directory/fetch", &[("csrf", &dir.csrf())])
            .await;
        assert_eq!(fetched.status, axum::http::StatusCode::SEE_OTHER);
        assert_eq!(
            clerk_client.get("/admin/exchange/directory").await.status,
            axum::http::StatusCode::FORBIDDEN
        );
        // Drafting, the outside agencies of the directory can be chosen (ours are not listed
        // there: they are inside recipients); an identifier it does not list is refused.
        let mut drafter = r.client();
        drafter
            .sign_in("chuyenvien.snv", &r.password("chuyenvien.snv"), None)
            .await;
        let form = drafter
            .get(&format!("/documents/drafts/new?agency={snv}"))
            .await;
        assert!(
            form.body
                .contains(&format!("<option value=\"{HOME_AFFAIRS}\"")),
            "the ministry is offered"
        );
        assert!(
            !form
                .body
                .contains(&format!("<option value=\"{THANH_HOA}\"")),
            "our own province is an inside recipient"
        );
        let csrf = form.csrf();
        let snv_text = snv.to_string();
        let draft_with = |outside: &'static str| {
            vec![
                crate::client::Part::Text("csrf", &csrf),
                crate::client::Part::Text("agency", &snv_text),
                crate::client::Part::Text("kind", "official_letter"),
                crate::client::Part::Text("subject", "V/v phối hợp kiểm tra"),
                crate::client::Part::Text("urgency", "normal"),
                crate::client::Part::Text("outside", outside),
                crate::client::Part::Text("recipients_text", "Lưu: VT."),
                crate::client::Part::File(
                    "main",
                    "du-thao.pdf",
                    "application/pdf",
                    include_bytes!("draft.pdf"),
                ),
            ]
        };
        let unknown_draft = drafter
            .post_multipart("/documents/drafts/new", &draft_with("000.00.00.H41"))
            .await;
        assert_eq!(
            unknown_draft.status,
            axum::http::StatusCode::UNPROCESSABLE_ENTITY
        );
        assert!(
            unknown_draft.body.contains("không có trong danh bạ"),
            "{}",
            unknown_draft.body
        );
        let made = drafter
            .post_multipart("/documents/drafts/new", &draft_with(HOME_AFFAIRS))
            .await;
        assert_eq!(
            made.status,
            axum::http::StatusCode::SEE_OTHER,
            "{}",
            made.body
        );
        let draft_id: i64 = made
            .location()
            .trim_start_matches("/documents/")
            .parse()
            .unwrap();
        let to = egov_store::documents::recipients(&mut app.db(), draft_id)
            .await
            .unwrap();
        assert_eq!(to.len(), 1);
        assert_eq!(to[0].external_code.as_deref(), Some(HOME_AFFAIRS));
        assert_eq!(to[0].name, "Bộ Nội vụ");

        // A recipient the directory does not know is refused, nothing sent.
        let unknown = egov_app::exchange::send::SendJob {
            to: "000.00.00.H41".into(),
            ..again.clone()
        };
        let refused = app.send_outside(&hub_client, &unknown).await.unwrap();
        assert!(
            matches!(&refused, egov_app::exchange::send::Sent::Refused(code, _) if code == "identifier_not_registered"),
            "{refused:?}"
        );
        assert_eq!(hub.state()["sent"], 2);
        // The operator sends it again (still refused: it is not in the directory), then marks
        // it handled; it leaves the list of refusals.
        let refused_id =
            egov_store::exchange::search(&mut app.db(), Some("refused"), None, Some("H41"), 10)
                .await
                .unwrap()[0]
                .id;
        // The operations page counts it among the exchange's dead letters.
        let ops = c.get("/admin/jobs").await;
        assert_eq!(ops.status, axum::http::StatusCode::OK);
        let dead_letters = ops
            .body
            .split("id=\"exchange-dead-letters\"")
            .nth(1)
            .unwrap();
        let dead_letters = &dead_letters[..dead_letters.find("</p>").unwrap()];
        let refusals =
            egov_store::exchange::search(&mut app.db(), Some("refused"), None, None, 100)
                .await
                .unwrap()
                .len();
        assert!(
            dead_letters.contains(&format!("<strong>{refusals}</strong>")),
            "{dead_letters}"
        );
        let page = c.get("/admin/exchange?state=refused").await;
        let csrf = page.csrf();
        let r1 = c
            .post_form(
                &format!("/admin/exchange/{refused_id}/retry"),
                &[("csrf", &csrf)],
            )
            .await;
        assert!(r1.status.is_redirection(), "{}", r1.status);
        drain(&r.app).await;
        let m = egov_store::exchange::get(&mut app.db(), refused_id)
            .await
            .unwrap();
        assert_eq!((m.state.as_str(), m.attempts), ("refused", 2));
        let page = c.get("/admin/exchange?state=refused").await;
        let csrf = page.csrf();
        c.post_form(
            &format!("/admin/exchange/{refused_id}/handled"),
            &[("csrf", &csrf)],
        )
        .await;
        let m = egov_store::exchange::get(&mut app.db(), refused_id)
            .await
            .unwrap();
        assert_eq!(m.state, "handled");
        assert!(
            !c.get("/admin/exchange?state=refused")
                .await
                .body
                .contains("000.00.00.H41"),
            "no longer among the refusals"
        );

        // The department recalls the letter: the ministry receives a revocation of it.
        let d = egov_store::documents::get_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let leader = app.actor_by_username("giamdoc.snv").await.unwrap();
        app.act_on_document(
            &leader,
            d.id,
            egov_app::documents::outgoing::OutAction::parse(
                "recall",
                d.version,
                "Ban hành nhầm nơi nhận".into(),
                None,
            )
            .unwrap(),
        )
        .await
        .unwrap();
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let revocation = log
            .iter()
            .find(|m| m.action == "revocation")
            .expect("a revocation in the log");
        assert_eq!(
            (revocation.counterpart.as_str(), revocation.state.as_str()),
            (HOME_AFFAIRS, "sent")
        );
        let waiting = ministry
            .received(HOME_AFFAIRS, MessageType::Edoc)
            .await
            .unwrap();
        let got = ministry
            .get(HOME_AFFAIRS, &waiting.last().unwrap().id)
            .await
            .unwrap();
        let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
        let Packet::Document(p) = reading.packet else {
            panic!("a document")
        };
        assert_eq!(p.business.action, BusinessAction::Revocation);
        assert_eq!(p.business.reason, "Ban hành nhầm nơi nhận");
        assert_eq!(
            p.header.document_id, packet_id,
            "the revoked document's own id"
        );
        for w in &waiting {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }

        // The hub down: the job fails (and the outbox retries it); the log counts the attempt.
        hub.set_mode(HubMode {
            down: true,
            ..HubMode::default()
        });
        let third = issue_to(app, HOME_AFFAIRS, "V/v lịch họp giao ban").await;
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), third.id)
            .await
            .unwrap();
        assert_eq!((log[0].state.as_str(), log[0].attempts), ("failed", 1));
        let waiting = |app: std::sync::Arc<egov_app::App>| async move {
            use egov_store::Exec as _;
            let (state, attempts): (String, i64) = (app.db())
                .fetch_one(
                    "SELECT state, attempts FROM jobs WHERE kind = 'exchange.send' \
                     ORDER BY id DESC LIMIT 1",
                    egov_store::args![],
                )
                .await
                .unwrap();
            (state, attempts)
        };
        assert_eq!(waiting(r.app.clone()).await, ("queued".to_string(), 1));
        // The hub back: the job waits out its back-off (ten seconds and more)…
        hub.set_mode(HubMode::default());
        drain(&r.app).await;
        assert_eq!(waiting(r.app.clone()).await, ("queued".to_string(), 1));
        // …until the next receiving round finds the hub answering and brings it forward.
        app.receive_round(&hub_client).await.unwrap();
        drain(&r.app).await;
        assert_eq!(waiting(r.app.clone()).await, ("done".to_string(), 2));
        let log = egov_store::exchange::of_document(&mut app.db(), third.id)
            .await
            .unwrap();
        assert_eq!((log[0].state.as_str(), log[0].attempts), ("sent", 2));

        // --- receiving -------------------------------------------------------------------
        // The ministry registers our letter and says so (status 03); the round applies it.
        let status = StatusPacket {
            from: Organ::new(HOME_AFFAIRS, "Bộ Nội vụ"),
            response_for: ResponseFor {
                organ_id: sender.code.clone(),
                code: d.notation.clone().unwrap(),
                promulgation_date: d.issued_on,
                document_id: packet_id.clone(),
            },
            staff: StaffInfo::default(),
            status: StatusCode::Registered,
            description: "Đã vào sổ văn bản đến số 812".into(),
            timestamp: Some(datetime!(2026-12-07 10:05:00)),
        };
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Status,
                Bytes::from(status_to_vec(&status).unwrap()),
            )
            .await
            .unwrap();
        // And writes to the province: a letter with its PDF.
        let (mut letter, pdf) = letter();
        letter.header.from = Organ::new(HOME_AFFAIRS, "Bộ Nội vụ");
        letter.header.to = vec![Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa")];
        letter.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &letter.header.code);
        letter.trace[0].organ_id = Some(HOME_AFFAIRS.into());
        let letter_bytes = Bytes::from(document_to_vec(&letter, &[&pdf]).unwrap());
        ministry
            .send(HOME_AFFAIRS, MessageType::Edoc, letter_bytes.clone())
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(
            (round.documents, round.statuses, round.refused),
            (1, 1, 0),
            "{round:?}"
        );
        let recipients = egov_store::documents::recipients(&mut app.db(), d.id)
            .await
            .unwrap();
        let outside = recipients
            .iter()
            .find(|r| r.external_code.as_deref() == Some(HOME_AFFAIRS))
            .unwrap();
        assert_eq!(
            outside.status.as_deref(),
            Some("03"),
            "the sender sees the 03"
        );
        // The letter waits in the province's queue, its PDF as the main file.
        let province = egov_store::agencies::find_by_code(&mut app.db(), THANH_HOA)
            .await
            .unwrap()
            .unwrap();
        use egov_store::Exec as _;
        let arrived: Vec<(i64, String)> = (app.db())
            .fetch_all(
                "SELECT i.document_id, d.main_sha FROM incoming i \
                 JOIN documents d ON d.id = i.document_id \
                 WHERE i.agency_id = $1 AND i.channel = 'exchange' AND i.state = 'arrived'",
                egov_store::args![province.id],
            )
            .await
            .unwrap();
        assert_eq!(arrived.len(), 1);
        assert_eq!(arrived[0].1, egov_store::blobs::BlobStore::digest(&pdf));
        // Status 01 went back to the ministry in the same round.
        let (back, st) = last_status(&ministry).await;
        assert_eq!(back.len(), 1);
        assert_eq!(st.status, StatusCode::Arrived);
        assert_eq!(st.response_for.document_id, letter.header.document_id);
        // The province's clerk registers it: status 03 goes back to the ministry.
        let copy_id: i64 = (app.db())
            .scalar(
                "SELECT id FROM incoming WHERE document_id = $1",
                egov_store::args![arrived[0].0],
            )
            .await
            .unwrap();
        let clerk = app.actor_by_username("vanthu.tinh").await.unwrap();
        let copy = egov_store::documents::get_incoming(&mut app.db(), copy_id)
            .await
            .unwrap();
        app.act_on_incoming(
            &clerk,
            copy_id,
            serde_json::from_value(
                serde_json::json!({"event": "register", "version": copy.version}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
        drain(&r.app).await;
        let (back, st) = last_status(&ministry).await;
        assert_eq!(back.len(), 2, "01, then 03");
        assert_eq!(st.status, StatusCode::Registered);
        assert_eq!(st.response_for.document_id, letter.header.document_id);
        assert_eq!(st.response_for.organ_id, HOME_AFFAIRS);
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }
        // Delivered again (the hub re-serialises it, one more trace entry): recognised.
        ministry
            .send(HOME_AFFAIRS, MessageType::Edoc, letter_bytes)
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!((round.documents, round.duplicates), (0, 1), "{round:?}");
        // A status about a document we never sent is refused and kept as evidence.
        let mut stray = status.clone();
        stray.response_for.document_id = "000.00.12.H56,2026/01/01,1/XX".into();
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Status,
                Bytes::from(status_to_vec(&stray).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.refused, 1, "{round:?}");
        // The ministry takes its letter back: the copy waits for the clerk, who agrees (15).
        let mut revocation = letter.clone();
        revocation.business.action = BusinessAction::Revocation;
        revocation.business.reason = "Văn bản ban hành nhầm".into();
        revocation.business.document_id = letter.header.document_id.clone();
        revocation.attachments.clear();
        revocation.trace[0].timestamp = Some(datetime!(2026-12-07 11:00:00));
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&revocation, &[]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.recalls, 1, "{round:?}");
        let copy = egov_store::documents::get_incoming(&mut app.db(), copy_id)
            .await
            .unwrap();
        assert_eq!(copy.recall_status.as_deref(), Some("13"));
        app.act_on_incoming(
            &clerk,
            copy_id,
            serde_json::from_value(
                serde_json::json!({"event": "accept_recall", "version": copy.version}),
            )
            .unwrap(),
        )
        .await
        .unwrap();
        drain(&r.app).await;
        let (back, st) = last_status(&ministry).await;
        assert_eq!(st.status, StatusCode::ChangeAccepted);
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }
        // A revocation of a document this sender never sent us is refused.
        let mut stranger = revocation.clone();
        stranger.business.document_id = "000.00.00.G09,2026/01/05,1/BNV".into();
        stranger.trace[0].timestamp = Some(datetime!(2026-12-07 11:30:00));
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&stranger, &[]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!((round.recalls, round.refused), (0, 1), "{round:?}");
        // A letter to an agency merged away in 2025 goes to its default successor, which
        // answers 01 from its own identifier and names the old addressee.
        let (old_id, old_code, new_id, new_code): (i64, String, i64, String) = (app.db())
            .fetch_one(
                "SELECT o.id, o.code, n.id, n.code FROM agency_successions s \
                 JOIN agencies o ON o.id = s.old_agency_id JOIN agencies n ON n.id = s.new_agency_id \
                 WHERE s.is_default AND o.valid_to IS NOT NULL ORDER BY o.code LIMIT 1",
                egov_store::args![],
            )
            .await
            .unwrap();
        for id in [old_id, new_id] {
            (app.db())
                .execute(
                    "UPDATE agencies SET code_source = 'official' WHERE id = $1",
                    egov_store::args![id],
                )
                .await
                .unwrap();
        }
        for (code, name) in [(&old_code, "Cơ quan cũ"), (&new_code, "Cơ quan mới")] {
            hub.register(Connected {
                code: code.clone(),
                name: name.into(),
                parent: Some(THANH_HOA.into()),
            });
        }
        let mut merged = letter.clone();
        merged.header.to = vec![Organ::new(old_code.clone(), "Cơ quan cũ")];
        merged.header.code.number = "4700".into();
        merged.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &merged.header.code);
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&merged, &[&pdf]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 1, "{round:?}");
        let filed: i64 = (app.db())
            .scalar(
                "SELECT COUNT(*) FROM incoming WHERE agency_id = $1 AND channel = 'exchange'",
                egov_store::args![new_id],
            )
            .await
            .unwrap();
        assert_eq!(filed, 1, "filed with the successor");
        let (back, st) = last_status(&ministry).await;
        assert_eq!(st.status, StatusCode::Arrived);
        assert_eq!(st.from.organ_id, new_code, "answered by the successor");
        assert!(st.description.contains(&old_code), "{}", st.description);
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }

        // A letter whose signed PDF was changed after signing: returned with status 02.
        let t = egov_store::now();
        let (_root, ca) = egov_pki::demo::root_and_ca(
            egov_pki::KeyAlgorithm::EcdsaP256,
            t - time::Duration::days(30),
            t + time::Duration::days(365),
        )
        .unwrap();
        let signer = egov_pki::demo::issue(
            Some(&ca),
            "CN=Nguyễn Văn Bộ,O=Bộ Nội vụ,C=VN",
            egov_pki::KeyAlgorithm::EcdsaP256,
            egov_pki::demo::Purpose::Signing,
            t - time::Duration::days(30),
            t + time::Duration::days(365),
        )
        .unwrap();
        let req = egov_pki::SignRequest::new(vec![signer.cert.clone(), ca.cert.clone()], t);
        let mut forged =
            egov_pki::sign::sign_with(include_bytes!("draft.pdf"), &req, &signer.key).unwrap();
        forged.extend_from_slice(b"\n99 0 obj\n(noi dung bi sua)\nendobj\n");
        let mut bad = letter.clone();
        bad.header.from = Organ::new(HOME_AFFAIRS, "Bộ Nội vụ");
        bad.header.to = vec![Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa")];
        bad.header.code.number = "4600".into();
        bad.header.document_id = document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &bad.header.code);
        bad.trace[0].organ_id = Some(HOME_AFFAIRS.into());
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&bad, &[&forged]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!((round.documents, round.refused), (0, 1), "{round:?}");
        let (back, st) = last_status(&ministry).await;
        assert_eq!(st.status, StatusCode::Refused);
        assert_eq!(st.response_for.document_id, bad.header.document_id);
        assert!(
            st.description.contains("không hợp lệ"),
            "{}",
            st.description
        );
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }
        // The same signature untouched, but by a CA egov does not trust: indeterminate. Filed,
        // flagged in the clerk's queue for the clerk to judge.
        let honest =
            egov_pki::sign::sign_with(include_bytes!("draft.pdf"), &req, &signer.key).unwrap();
        let mut unknown_ca = bad.clone();
        unknown_ca.header.code.number = "4601".into();
        unknown_ca.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &unknown_ca.header.code);
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&unknown_ca, &[&honest]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!((round.documents, round.refused), (1, 0), "{round:?}");
        let (back, st) = last_status(&ministry).await;
        assert_eq!(st.status, StatusCode::Arrived);
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }
        let province = egov_store::agencies::find_by_code(&mut app.db(), THANH_HOA)
            .await
            .unwrap()
            .unwrap();
        let queue =
            egov_store::documents::incoming_of(&mut app.db(), province.id, &["arrived"], 100)
                .await
                .unwrap();
        let flagged = queue
            .iter()
            .find(|i| {
                i.notation
                    .as_deref()
                    .is_some_and(|n| n.starts_with("4601/"))
            })
            .expect("the indeterminate letter is in the province's queue");
        assert_eq!(flagged.signature.as_deref(), Some("indeterminate"));

        // The message log's tamper evidence: it holds now; a message changed, one removed, or a
        // packet rewritten in the file store is found.
        let report = app.verify_exchange_log().await.unwrap();
        assert!(report.holds(), "{report:?}");
        assert!(report.messages >= 10 && report.packets >= 10, "{report:?}");
        let log = egov_store::exchange::search(&mut app.db(), Some("received"), None, None, 3)
            .await
            .unwrap();
        {
            use egov_store::Exec;
            (app.db())
                .execute(
                    "UPDATE exchange_messages SET counterpart = '000.00.00.G01' WHERE id = $1",
                    egov_store::args![log[0].id],
                )
                .await
                .unwrap();
            (app.db())
                .execute(
                    "DELETE FROM exchange_messages WHERE id = $1",
                    egov_store::args![log[1].id],
                )
                .await
                .unwrap();
        }
        let evidence = app
            .blobs
            .staging()
            .path(log[2].packet_sha.as_deref().unwrap())
            .unwrap();
        std::fs::write(&evidence, b"<edXMLEnvelope/>").unwrap();
        let report = app.verify_exchange_log().await.unwrap();
        assert!(!report.holds());
        let found: Vec<(i64, &str)> = report
            .discrepancies
            .iter()
            .map(|d| (d.message_id, d.kind))
            .collect();
        assert!(found.contains(&(log[0].id, "altered")), "{found:?}");
        assert!(found.contains(&(log[1].id, "removed")), "{found:?}");
        assert!(
            report.bad_packets.iter().any(|(id, _)| *id == log[2].id),
            "{:?}",
            report.bad_packets
        );

        // A hub that does not answer, or refuses this system, ends the round with one error.
        let wrong = client(&base, "egov-thanhhoa", "not-the-secret");
        let err = app.receive_round(&wrong).await.unwrap_err();
        assert!(err.contains("bad_signature"), "{err}");
        hub.set_mode(HubMode {
            down: true,
            ..HubMode::default()
        });
        assert!(app.receive_round(&hub_client).await.is_err());
        hub.set_mode(HubMode::default());
        // Nothing waits any more: every packet was marked at the hub.
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round, egov_app::exchange::receive::Received::default());
    }
);

// --- a route through a provincial LGSP ---------------------------------------------------------

const NGHE_AN: &str = "000.00.00.H41";

fn lgsp_client(base: &str, system: &str, secret: &str) -> egov_app::exchange::lgsp::LgspClient {
    egov_app::exchange::lgsp::LgspClient::new(
        "lgsp-tinh",
        egov_app::exchange::lgsp::LgspConfig {
            url: base.into(),
            system_id: system.into(),
            secret: secret.into(),
            token: format!("token-{system}"),
            timeout_seconds: 2,
            ..Default::default()
        },
    )
}

crate::both!(
    an_agency_the_directory_routes_through_an_lgsp_is_reached_through_it,
    |db| {
        let (hub, base, _stop) = hub().await;
        let hub = hub.with_tokens(BTreeMap::from([
            (
                "egov-thanhhoa".to_string(),
                "token-egov-thanhhoa".to_string(),
            ),
            ("bnv".to_string(), "token-bnv".to_string()),
        ]));
        let lgsp_base = base.clone();
        let (r, sender) = connected(db, &hub, &base, move |s| {
            s.exchange.lgsp.insert(
                "lgsp-tinh".into(),
                egov_app::exchange::lgsp::LgspConfig {
                    url: lgsp_base,
                    system_id: "egov-thanhhoa".into(),
                    secret: "s3cret-th".into(),
                    token: "token-egov-thanhhoa".into(),
                    timeout_seconds: 2,
                    ..Default::default()
                },
            );
        })
        .await;
        let app = &r.app;
        hub.register(Connected {
            code: NGHE_AN.into(),
            name: "UBND tỉnh Nghệ An".into(),
            parent: None,
        });
        // The province's platform connects Nghệ An and our department; the hub everyone.
        hub.lgsp_lists(vec![NGHE_AN.into(), sender.code.clone()]);
        let routes = egov_app::exchange::routes::Routes::from_settings(&app.settings.exchange);
        assert_eq!(routes.all().len(), 2);
        for route in routes.all() {
            app.import_directory(route).await.unwrap();
        }
        let directory = egov_store::exchange::directory(&mut app.db())
            .await
            .unwrap();
        let route_of = |code: &str| {
            directory
                .iter()
                .find(|e| e.code == code)
                .map(|e| e.route.clone())
        };
        assert_eq!(route_of(NGHE_AN).as_deref(), Some("lgsp-tinh"));
        assert_eq!(route_of(HOME_AFFAIRS).as_deref(), Some("hub"));

        // Issued to Nghệ An: sent through the LGSP (a multipart upload with the platform's
        // headers and token), logged under its route.
        let calls_before = hub.state()["lgsp_calls"].as_u64().unwrap();
        let d = issue_to(app, NGHE_AN, "V/v phối hợp quản lý địa giới hành chính").await;
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(log.len(), 1, "{log:?}");
        assert_eq!(
            (log[0].route.as_str(), log[0].state.as_str()),
            ("lgsp-tinh", "sent"),
            "{log:?}"
        );
        assert!(hub.state()["lgsp_calls"].as_u64().unwrap() > calls_before);

        // Nghệ An takes it from the platform: synchronised by date range, fetched, marked.
        let nghe_an = lgsp_client(&base, "bnv", "s3cret-bnv");
        let waiting = nghe_an.received(NGHE_AN, MessageType::Edoc).await.unwrap();
        assert_eq!(waiting.len(), 1);
        let got = nghe_an.get(NGHE_AN, &waiting[0].id).await.unwrap();
        let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
        let Packet::Document(p) = reading.packet else {
            panic!("a document")
        };
        assert_eq!(p.header.subject, "V/v phối hợp quản lý địa giới hành chính");
        nghe_an
            .update_status(NGHE_AN, &waiting[0].id, true)
            .await
            .unwrap();
        assert!(
            nghe_an
                .received(NGHE_AN, MessageType::Edoc)
                .await
                .unwrap()
                .is_empty(),
            "a synchronisation lists no delivery already marked"
        );
        // It registers the letter and says so through the platform; our round on that route
        // applies the status, logged under the route.
        let status = StatusPacket {
            from: Organ::new(NGHE_AN, "UBND tỉnh Nghệ An"),
            response_for: ResponseFor {
                organ_id: sender.code.clone(),
                code: d.notation.clone().unwrap(),
                promulgation_date: d.issued_on,
                document_id: p.header.document_id.clone(),
            },
            staff: StaffInfo::default(),
            status: StatusCode::Registered,
            description: "Đã vào sổ".into(),
            timestamp: Some(datetime!(2026-12-07 10:05:00)),
        };
        nghe_an
            .send(
                NGHE_AN,
                MessageType::Status,
                Bytes::from(status_to_vec(&status).unwrap()),
            )
            .await
            .unwrap();
        let ours = routes.named("lgsp-tinh").unwrap();
        let round = app.receive_round(ours).await.unwrap();
        assert_eq!(round.statuses, 1, "{round:?}");
        let recipients = egov_store::documents::recipients(&mut app.db(), d.id)
            .await
            .unwrap();
        assert_eq!(recipients[0].status.as_deref(), Some("03"));
        let log = egov_store::exchange::of_document(&mut app.db(), d.id)
            .await
            .unwrap();
        assert!(
            log.iter()
                .any(|m| m.direction == "in" && m.route == "lgsp-tinh" && m.action == "03"),
            "{log:?}"
        );

        // A wrong secret or token: the platform refuses this system, and the round says so
        // once.
        let wrong = egov_app::exchange::lgsp::LgspClient::new(
            "lgsp-tinh",
            egov_app::exchange::lgsp::LgspConfig {
                url: base.clone(),
                system_id: "egov-thanhhoa".into(),
                secret: "s3cret-th".into(),
                token: "stolen".into(),
                timeout_seconds: 2,
                ..Default::default()
            },
        );
        let err = app.receive_round(&wrong).await.unwrap_err();
        assert!(err.contains("unauthorized"), "{err}");
        // A packet the platform cannot read is refused with its numeric code, named.
        let refused = nghe_an
            .send(
                NGHE_AN,
                MessageType::Edoc,
                Bytes::from_static(b"<not-a-packet/>"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&refused, TransportError::Refused { code, .. } if code == "lgsp_1"),
            "{refused:?}"
        );
    }
);

// --- updates and replacements, both ways ------------------------------------------------------

/// Every document packet waiting for the ministry, read, and marked done.
async fn ministry_takes(ministry: &HubClient) -> Vec<DocumentPacket> {
    let waiting = ministry
        .received(HOME_AFFAIRS, MessageType::Edoc)
        .await
        .unwrap();
    let mut out = Vec::new();
    for w in waiting {
        let got = ministry.get(HOME_AFFAIRS, &w.id).await.unwrap();
        let reading = read_slice(&got, &Limits::default(), &mut DiscardSink).unwrap();
        let Packet::Document(p) = reading.packet else {
            panic!("a document")
        };
        out.push(*p);
        ministry
            .update_status(HOME_AFFAIRS, &w.id, true)
            .await
            .unwrap();
    }
    out
}

/// The last status waiting for the ministry; every waiting one marked done.
async fn ministry_hears(ministry: &HubClient) -> StatusPacket {
    let (back, st) = last_status(ministry).await;
    for w in &back {
        ministry
            .update_status(HOME_AFFAIRS, &w.id, true)
            .await
            .unwrap();
    }
    st
}

crate::both!(
    updates_and_replacements_travel_as_their_own_packets_both_ways,
    |db| {
        let (hub, base, _stop) = hub().await;
        let (r, sender) = connected(db, &hub, &base, |_| {}).await;
        let app = &r.app;
        let hub_client = client(&base, "egov-thanhhoa", "s3cret-th");
        app.import_directory(&hub_client).await.unwrap();
        let ministry = client(&base, "bnv", "s3cret-bnv");

        // --- sending ---------------------------------------------------------------------
        let d = issue_to(
            app,
            HOME_AFFAIRS,
            "V/v kế hoạch tuyển dụng công chức năm 2027",
        )
        .await;
        drain(&r.app).await;
        let sent = ministry_takes(&ministry).await;
        assert_eq!(sent.len(), 1);
        let packet_id = sent[0].header.document_id.clone();
        // Two updates: each its own message (sequence 0, then 1), the same DocumentId, sent
        // once each; an empty reason is refused, and a drafter may not send one.
        let clerk = app.actor_by_username("vanthu.snv").await.unwrap();
        let drafter = app.actor_by_username("chuyenvien.snv").await.unwrap();
        let err = app.send_update(&clerk, d.id, "  ").await.unwrap_err();
        assert_eq!(err.code.as_str(), "reason_required");
        let err = app.send_update(&drafter, d.id, "Sửa").await.unwrap_err();
        assert_eq!(err.code.as_str(), "forbidden");
        assert_eq!(
            app.send_update(&clerk, d.id, "Bổ sung phụ lục")
                .await
                .unwrap(),
            0
        );
        drain(&r.app).await;
        assert_eq!(
            app.send_update(&clerk, d.id, "Sửa số liệu biểu 2")
                .await
                .unwrap(),
            1
        );
        drain(&r.app).await;
        let log = egov_store::exchange::of_document(&mut app.db(), d.id)
            .await
            .unwrap();
        let updates: Vec<(i64, &str, &str)> = log
            .iter()
            .filter(|m| m.action == "update")
            .map(|m| (m.sequence, m.state.as_str(), m.packet_document_id.as_str()))
            .collect();
        assert_eq!(
            updates,
            vec![
                (0, "sent", packet_id.as_str()),
                (1, "sent", packet_id.as_str())
            ]
        );
        let got = ministry_takes(&ministry).await;
        assert_eq!(got.len(), 2);
        for (p, reason) in got.iter().zip(["Bổ sung phụ lục", "Sửa số liệu biểu 2"]) {
            assert_eq!(p.business.action, BusinessAction::Update);
            assert_eq!(p.header.document_id, packet_id);
            assert_eq!(p.business.document_id, packet_id);
            assert_eq!(p.business.reason, reason);
        }
        // A document replacing it goes out as a replacement naming it.
        let newer = issue_with(
            app,
            HOME_AFFAIRS,
            "V/v kế hoạch tuyển dụng công chức năm 2027 (thay thế)",
            Some(d.id),
        )
        .await;
        drain(&r.app).await;
        let got = ministry_takes(&ministry).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].business.action, BusinessAction::Replacement);
        assert_ne!(got[0].header.document_id, packet_id, "its own DocumentId");
        assert_eq!(got[0].business.replacements.len(), 1);
        assert_eq!(got[0].business.replacements[0].document_id, packet_id);
        let log = egov_store::exchange::of_document(&mut app.db(), newer.id)
            .await
            .unwrap();
        assert_eq!(
            log.iter()
                .map(|m| (m.action.as_str(), m.state.as_str()))
                .collect::<Vec<_>>(),
            vec![("replacement", "sent")]
        );

        // --- receiving -------------------------------------------------------------------
        let (mut letter, pdf) = letter();
        letter.header.from = Organ::new(HOME_AFFAIRS, "Bộ Nội vụ");
        letter.header.to = vec![Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa")];
        letter.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &letter.header.code);
        letter.trace[0].organ_id = Some(HOME_AFFAIRS.into());
        let send = |p: DocumentPacket| {
            let ministry = &ministry;
            let pdf = pdf.clone();
            async move {
                ministry
                    .send(
                        HOME_AFFAIRS,
                        MessageType::Edoc,
                        Bytes::from(document_to_vec(&p, &[&pdf]).unwrap()),
                    )
                    .await
                    .unwrap();
            }
        };
        send(letter.clone()).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 1, "{round:?}");
        assert_eq!(ministry_hears(&ministry).await.status, StatusCode::Arrived);
        let copy_of = |packet: &str, action: &str| {
            let app = app.clone();
            let packet = packet.to_string();
            let action = action.to_string();
            async move {
                let log =
                    egov_store::exchange::search(&mut app.db(), Some("received"), None, None, 100)
                        .await
                        .unwrap();
                let m = log
                    .iter()
                    .find(|m| m.packet_document_id == packet && m.action == action)
                    .expect("received");
                let doc =
                    egov_store::documents::get_document(&mut app.db(), m.document_id.unwrap())
                        .await
                        .unwrap();
                use egov_store::Exec as _;
                let copy: i64 = (app.db())
                    .scalar(
                        "SELECT id FROM incoming WHERE document_id = $1",
                        egov_store::args![doc.id],
                    )
                    .await
                    .unwrap();
                (
                    doc,
                    egov_store::documents::get_incoming(&mut app.db(), copy)
                        .await
                        .unwrap(),
                )
            }
        };
        let (original, _) = copy_of(&letter.header.document_id, "new").await;
        let province_clerk = app.actor_by_username("vanthu.tinh").await.unwrap();
        let act = |copy: egov_store::documents::IncomingRow, event: &str| {
            let app = app.clone();
            let clerk = province_clerk.clone();
            let event = event.to_string();
            async move {
                app.act_on_incoming(
                    &clerk,
                    copy.id,
                    serde_json::from_value(serde_json::json!({
                        "event": event, "version": copy.version, "note": "Không đúng thẩm quyền",
                    }))
                    .unwrap(),
                )
                .await
                .unwrap();
            }
        };
        // An update of it: filed tied to the copy it updates; the clerk registering it agrees
        // (15 goes back), refusing the next one disagrees (16).
        let mut update = letter.clone();
        update.business.action = BusinessAction::Update;
        update.business.reason = "Sửa lỗi chính tả ở trích yếu".into();
        update.business.document_id = letter.header.document_id.clone();
        update.trace[0].timestamp = Some(datetime!(2026-12-07 11:00:00));
        send(update.clone()).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 1, "{round:?}");
        let (doc, copy) = copy_of(&letter.header.document_id, "update").await;
        assert_eq!(
            doc.replaces_id,
            Some(original.id),
            "tied to the copy it updates"
        );
        act(copy, "register").await;
        drain(&r.app).await;
        let st = ministry_hears(&ministry).await;
        assert_eq!(st.status, StatusCode::ChangeAccepted);
        assert_eq!(st.response_for.document_id, letter.header.document_id);
        let mut second = update.clone();
        second.business.reason = "Thay phụ lục".into();
        second.trace[0].timestamp = Some(datetime!(2026-12-07 12:00:00));
        send(second).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 1, "{round:?}");
        let log = egov_store::exchange::search(&mut app.db(), Some("received"), None, None, 100)
            .await
            .unwrap();
        let latest = log
            .iter()
            .find(|m| m.action == "update")
            .and_then(|m| m.document_id)
            .unwrap();
        let copy: i64 = {
            use egov_store::Exec as _;
            (app.db())
                .scalar(
                    "SELECT id FROM incoming WHERE document_id = $1",
                    egov_store::args![latest],
                )
                .await
                .unwrap()
        };
        let copy = egov_store::documents::get_incoming(&mut app.db(), copy)
            .await
            .unwrap();
        act(copy, "reject").await;
        drain(&r.app).await;
        assert_eq!(
            ministry_hears(&ministry).await.status,
            StatusCode::ChangeRefused
        );
        // The ministry then takes its letter back; agreeing sends 15 again — a 15 of its own,
        // never taken for the one that agreed to the update.
        let mut revocation = letter.clone();
        revocation.business.action = BusinessAction::Revocation;
        revocation.business.reason = "Thu hồi để ban hành lại".into();
        revocation.business.document_id = letter.header.document_id.clone();
        revocation.attachments.clear();
        revocation.trace[0].timestamp = Some(datetime!(2026-12-07 13:00:00));
        ministry
            .send(
                HOME_AFFAIRS,
                MessageType::Edoc,
                Bytes::from(document_to_vec(&revocation, &[]).unwrap()),
            )
            .await
            .unwrap();
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.recalls, 1, "{round:?}");
        let (_, copy) = copy_of(&letter.header.document_id, "new").await;
        assert_eq!(copy.recall_status.as_deref(), Some("13"));
        act(copy, "accept_recall").await;
        drain(&r.app).await;
        assert_eq!(
            ministry_hears(&ministry).await.status,
            StatusCode::ChangeAccepted
        );
        // A replacement: a document of its own (its own number), tied to the one it replaces.
        let mut replacement = letter.clone();
        replacement.header.code.number = "4522".into();
        replacement.header.document_id = document_id(
            HOME_AFFAIRS,
            date!(2026 - 12 - 07),
            &replacement.header.code,
        );
        replacement.business.action = BusinessAction::Replacement;
        replacement.business.document_id = replacement.header.document_id.clone();
        replacement.business.reason = "Thay thế văn bản 4521".into();
        replacement.business.replacements = vec![ReplacementInfo {
            document_id: letter.header.document_id.clone(),
            organ_ids: vec![THANH_HOA.into()],
        }];
        send(replacement.clone()).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 1, "{round:?}");
        let (doc, _) = copy_of(&replacement.header.document_id, "replacement").await;
        assert_eq!(doc.replaces_id, Some(original.id));
        assert_eq!(doc.number, Some(4522));
        assert_eq!(ministry_hears(&ministry).await.status, StatusCode::Arrived);
        // A letter addressed to two of our agencies: a document for each, each answered.
        let mut both = letter.clone();
        both.header.code.number = "4530".into();
        both.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &both.header.code);
        both.header.to = vec![
            Organ::new(THANH_HOA, "UBND tỉnh Thanh Hóa"),
            Organ::new(sender.code.clone(), sender.name.clone()),
        ];
        send(both.clone()).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!(round.documents, 2, "{round:?}");
        let copies: i64 = {
            use egov_store::Exec as _;
            (app.db())
                .scalar(
                    "SELECT COUNT(DISTINCT i.agency_id) FROM incoming i JOIN documents d \
                     ON d.id = i.document_id WHERE d.number = 4530 AND i.channel = 'exchange'",
                    egov_store::args![],
                )
                .await
                .unwrap()
        };
        assert_eq!(copies, 2, "one copy in each agency's queue");
        let (back, _) = last_status(&ministry).await;
        let arrived = back.len();
        for w in &back {
            ministry
                .update_status(HOME_AFFAIRS, &w.id, true)
                .await
                .unwrap();
        }
        assert_eq!(arrived, 2, "status 01 from each");

        // An update of a document the ministry never sent us: refused, logged.
        let mut stray = update.clone();
        stray.header.code.number = "9999".into();
        stray.header.document_id =
            document_id(HOME_AFFAIRS, date!(2026 - 12 - 07), &stray.header.code);
        stray.business.document_id = stray.header.document_id.clone();
        send(stray).await;
        let round = app.receive_round(&hub_client).await.unwrap();
        assert_eq!((round.documents, round.refused), (0, 1), "{round:?}");
    }
);
