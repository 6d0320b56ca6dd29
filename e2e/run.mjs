// Browser tests: sign in, browse the agency tree, switch language, administer; axe-core finds no
// serious or critical accessibility violation; at 360 px nothing scrolls sideways.
//
// Environment: EGOV_BASE (http://127.0.0.1:PORT of a running `egov demo`), EGOV_ACCOUNTS (its
// demo-accounts.json), CHROMIUM (default /usr/bin/chromium), EGOV_SHOTS (screenshot folder).

import { chromium } from "playwright-core";
import { createHmac } from "node:crypto";
import { readFileSync, mkdirSync, writeFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { crc32, deflateSync } from "node:zlib";
import { createRequire } from "node:module";
import assert from "node:assert/strict";

const require = createRequire(import.meta.url);
const AXE = require.resolve("axe-core/axe.min.js");
const base = process.env.EGOV_BASE;
const accounts = JSON.parse(readFileSync(process.env.EGOV_ACCOUNTS, "utf8"));
const shots = process.env.EGOV_SHOTS || "test-results";
const label = process.env.EGOV_LABEL || "sqlite";
mkdirSync(shots, { recursive: true });
const account = (u) => accounts.find((a) => a.username === u);

function base32(s) {
  const abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const ch of s.replace(/=+$/, "")) bits += abc.indexOf(ch).toString(2).padStart(5, "0");
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}

// A w×h RGBA PNG: a disc of `rgb` on a transparent background (written here, not by egov).
function discPng(w, h, rgb) {
  const chunk = (type, data) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length);
    head.write(type, 4, "ascii");
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])));
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = [];
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 4);
    for (let x = 0; x < w; x++) {
      const inside = Math.hypot(x - w / 2, y - h / 2) < Math.min(w, h) / 2;
      row.set(inside ? [...rgb, 255] : [255, 255, 255, 0], 1 + x * 4);
    }
    rows.push(row);
  }
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([sig, chunk("IHDR", ihdr), chunk("IDAT", deflateSync(Buffer.concat(rows))), chunk("IEND", Buffer.alloc(0))]);
}

// RFC 6238 with SHA-1, 30 s steps, 6 digits: written here so the test does not trust our code.
function totp(secret, offsetSteps = 0) {
  const counter = Math.floor(Date.now() / 1000 / 30) + offsetSteps;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const h = createHmac("sha1", base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, "0");
}

// Text a person reads never shows an internal name (`doc-event-sign`, `people_committee`) nor,
// on a Vietnamese page, English words. A few lower-case hyphenated words are real words.
const IDENTIFIER_OK = new Set(["e-mail"]);
const ENGLISH = ["the", "and", "with", "within", "from", "weekend", "saturday", "sunday", "monday", "exchange", "worked", "pending", "signed", "unknown", "error", "lunar", "adjacent", "falls", "day", "days", "none", "yes"];
async function noInternalNames(page, name) {
  const [text, lang] = await page.evaluate(() => [document.body.innerText, document.documentElement.lang]);
  // English has hyphenated words of its own ("two-tier"): there only snake_case is suspect.
  const pattern = lang === "vi" ? /(?<![\w./@:#=?&-])[a-z]+[_-][a-z_-]*[a-z](?![\w./@-])/g : /(?<![\w./@:#=?&-])[a-z]+_[a-z_]*[a-z](?![\w./@-])/g;
  const ids = [...text.matchAll(pattern)].map((m) => m[0]).filter((w) => !IDENTIFIER_OK.has(w));
  assert.equal(ids.length, 0, `${name}: internal names on the page: ${[...new Set(ids)].join(", ")}`);
  if (lang === "vi") {
    const words = new Set(text.toLowerCase().split(/[^a-z]+/));
    const english = ENGLISH.filter((w) => words.has(w));
    assert.equal(english.length, 0, `${name}: English on a Vietnamese page: ${english.join(", ")}`);
  }
}

const results = [];
async function check(page, name) {
  await noInternalNames(page, name);
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => await window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = r.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  results.push({ page: name, violations: r.violations.map((v) => `${v.impact}:${v.id}`) });
  assert.equal(bad.length, 0, `${name}: ${bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target).join(" ")}`).join("; ")}`);
}

async function noSidewaysScroll(page, name) {
  const [sw, iw] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(sw <= iw, `${name}: the page is ${sw}px wide in a ${iw}px window`);
}

// Moves the focus with the Tab key alone until it reaches `selector`.
async function tabTo(page, selector, max = 60) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate((s) => document.activeElement && document.activeElement.matches(s), selector)) return;
    await page.keyboard.press("Tab");
  }
  throw new Error(`Tab never reached ${selector}`);
}

async function signIn(page, user, withTotp) {
  await page.goto(`${base}/sign-in`);
  await page.getByLabel(/Tên đăng nhập|User name/).fill(user);
  await page.getByLabel(/Mật khẩu|Password/).fill(account(user).password);
  await page.getByRole("button", { name: /Đăng nhập|Sign in/ }).click();
  if (withTotp) {
    await page.waitForURL(/\/sign-in\/totp/);
    await check(page, "totp");
    await page.getByLabel(/Mã xác thực|Code/).fill(totp(account(user).totp_secret));
    await page.getByRole("button", { name: /Tiếp tục|Continue/ }).click();
  }
  await page.waitForURL(/\/office/, { timeout: 30000 }).catch(async (e) => {
    const alert = await page.locator("[role=alert], .error, .flash").allInnerTexts().catch(() => []);
    throw new Error(`signing in as ${user} did not reach /office (at ${page.url()}): ${alert.join(" | ") || e.message}`);
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  // axe is injected as a script, which our Content-Security-Policy would (rightly) block.
  const context = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const page = await context.newPage();

  await page.goto(base);
  await check(page, "home");
  await page.goto(`${base}/sign-in`);
  await check(page, "sign-in");

  // A wrong password shows the error summary on the same page.
  await page.getByLabel("Tên đăng nhập").fill("chuyenvien.snv");
  await page.getByLabel("Mật khẩu").fill("không đúng");
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await page.getByText("Tên đăng nhập hoặc mật khẩu không đúng").waitFor();
  await check(page, "sign-in with error");

  await signIn(page, "chuyenvien.snv", false);
  await page.getByRole("heading", { name: /Xin chào, Ngô Thị Thu/ }).waitFor();
  await check(page, "office");

  // The tree as of 2024: the province, then its districts.
  await page.getByRole("link", { name: "Cơ quan, đơn vị" }).click();
  await page.getByRole("link", { name: /Xem năm 2024/ }).click();
  await page.getByRole("link", { name: "Ủy ban nhân dân tỉnh Thanh Hóa" }).click();
  await page.getByRole("link", { name: "Ủy ban nhân dân huyện Hoằng Hóa" }).waitFor();
  await check(page, "tree 2024");
  // The same province today: communes, no districts.
  await page.getByRole("link", { name: "Xem hôm nay" }).click();
  await page.getByRole("link", { name: "Ủy ban nhân dân tỉnh Thanh Hóa" }).click();
  await page.getByRole("link", { name: "Ủy ban nhân dân phường Hạc Thành" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Ủy ban nhân dân huyện Hoằng Hóa" }).count(), 0);
  // Search ignores diacritics.
  await page.getByLabel("Tìm cơ quan").fill("dong son");
  await page.getByRole("button", { name: "Xem" }).click();
  await page.getByText("Kết quả:").waitFor();
  assert.equal(await page.getByRole("link", { name: "Ủy ban nhân dân phường Đông Sơn" }).count(), 3);
  await check(page, "search");
  // Hạc Thành and the communes it succeeded.
  await page.getByLabel("Tìm cơ quan").fill("hac thanh");
  await page.getByRole("button", { name: "Xem" }).click();
  await page.getByRole("link", { name: "Ủy ban nhân dân phường Hạc Thành" }).click();
  await page.getByRole("heading", { name: "Tiếp nhận từ" }).waitFor();
  await check(page, "agency");
  await page.getByRole("link", { name: "Phường Hạc Thành" }).click();
  await page.getByRole("heading", { name: "Hình thành từ" }).waitFor();
  await check(page, "unit");

  // English.
  await page.getByRole("link", { name: "English" }).click();
  await page.getByRole("heading", { name: "Formed from" }).waitFor();
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await page.getByRole("link", { name: "Agencies" }).first().click();
  await page.getByText("Structure in force").waitFor();
  await check(page, "agencies in English");
  await page.getByRole("link", { name: "Tiếng Việt" }).click();
  await page.getByText("Mô hình áp dụng").waitFor();

  // A phone: 360 px wide, nothing scrolls sideways.
  await page.setViewportSize({ width: 360, height: 740 });
  for (const [name, path] of [["office", "/office"], ["agencies", "/agencies?as_of=2024-06-01"], ["search", "/agencies?q=thanh+hoa"]]) {
    await page.goto(`${base}${path}`);
    await noSidewaysScroll(page, name);
    await page.screenshot({ path: `${shots}/${label}-360-${name}.png`, fullPage: true });
  }
  const pcHref = await page.getByRole("link", { name: "Ủy ban nhân dân tỉnh Thanh Hóa" }).first().getAttribute("href");
  await page.goto(`${base}${pcHref}`);
  await noSidewaysScroll(page, "agency");
  await page.screenshot({ path: `${shots}/${label}-360-agency.png`, fullPage: true });
  await page.goto(`${base}/sign-in`);
  await noSidewaysScroll(page, "sign-in");
  await context.close();

  // The administrator: TOTP, the audit page and the people list.
  const admin = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const ap = await admin.newPage();
  await signIn(ap, "admin", true);
  await ap.getByRole("link", { name: "Quản trị" }).click();
  await check(ap, "admin");
  await ap.getByRole("link", { name: "Nhật ký hệ thống" }).click();
  await ap.getByText("Chuỗi nhật ký nguyên vẹn").waitFor();
  await check(ap, "audit");
  // Paged, then filtered by action; each object named and linked.
  await ap.getByRole("link", { name: "Trang sau" }).click();
  await ap.getByRole("link", { name: "Trang trước" }).waitFor();
  await ap.getByLabel("Thao tác").fill("person.");
  await ap.getByRole("button", { name: "Xem" }).click();
  await ap.waitForURL(/action=person\./);
  assert.ok(await ap.locator("tbody tr").count() > 0, "people created by the demo are listed");
  assert.equal(await ap.locator("tbody code", { hasNotText: /^person\./ }).count(), 0, "only person actions");
  assert.ok(await ap.locator('tbody a[href^="/admin/people/"]').count() > 0, "people linked by name");
  await check(ap, "audit filtered");
  await ap.goto(`${base}/admin/calendar/2026`);
  await ap.getByRole("heading", { name: /Lịch năm 2026/ }).waitFor();
  await check(ap, "calendar year");
  await ap.goto(`${base}/admin/calendar?received=2026-02-12T09%3A00&limit_kind=working_days&amount=5`);
  await ap.getByText("Hạn xử lý: 2026-02-26 17:00").waitFor();
  await check(ap, "calendar");
  await ap.goto(`${base}/admin/people?q=nguyen`);
  await check(ap, "people");
  await ap.setViewportSize({ width: 360, height: 740 });
  await noSidewaysScroll(ap, "people at 360");
  await ap.screenshot({ path: `${shots}/${label}-360-people.png`, fullPage: true });
  await ap.goto(`${base}/admin/calendar/2026`);
  await noSidewaysScroll(ap, "calendar at 360");
  await ap.screenshot({ path: `${shots}/${label}-360-calendar.png`, fullPage: true });
  await ap.setViewportSize({ width: 1280, height: 800 });
  // The national portal's synchronisation: `egov demo` reports to a stand-in it starts.
  await ap.goto(`${base}/admin`);
  await ap.getByRole("link", { name: "Đồng bộ Cổng Dịch vụ công quốc gia" }).click();
  await ap.getByText("10 — đã trả kết quả").waitFor();
  await check(ap, "national portal");

  // The counter, keyboard only, on one page: a business household registration with three
  // components, from the procedure search to the receipt.
  const desk = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const cp = await desk.newPage();
  await signIn(cp, "motcua.hacthanh", false);
  await cp.goto(`${base}/onestop/counter`);
  await check(cp, "counter");
  assert.equal(await cp.evaluate(() => document.activeElement.id), "procedure-q", "the procedure field has the focus");
  await cp.keyboard.type("ho kinh doanh");
  await cp.keyboard.press("Enter");
  await cp.getByRole("heading", { name: "Các thủ tục phù hợp" }).waitFor();
  await tabTo(cp, 'a[href*="procedure=9.000008"]');
  await cp.keyboard.press("Enter");
  await cp.getByRole("heading", { name: /Đăng ký thành lập hộ kinh doanh/ }).waitFor();
  await check(cp, "counter form");
  assert.equal(await cp.evaluate(() => document.activeElement.id), "identifier", "the form starts at the applicant");
  await cp.keyboard.type("038185012345");
  await tabTo(cp, "#name");
  await cp.keyboard.type("Đỗ Minh Tuấn");
  await tabTo(cp, "#phone");
  await cp.keyboard.type("0915 678 901");
  await tabTo(cp, "#subject");
  await cp.keyboard.type("Đăng ký hộ kinh doanh tạp hóa");
  for (const code of ["TP1", "TP2", "TP3"]) {
    await tabTo(cp, `#provided_${code}`);
    await cp.keyboard.press("Space");
  }
  // The citizen pays the fee at the counter, recorded with the receipt.
  await cp.check("#fee_paid");
  await tabTo(cp, 'button[value="receive"]');
  await cp.keyboard.press("Enter");
  await cp.waitForURL(/\/onestop\/dossiers\/\d+/);
  await cp.getByText(/Đã tiếp nhận hồ sơ .*Hẹn trả kết quả/).waitFor();
  assert.equal(await cp.getByText("Đỗ Minh Tuấn").count() > 0, true);
  await check(cp, "dossier");
  const dossierUrl = cp.url();
  // The receipt, as the citizen takes it home: its QR code (read by zbarimg, not by egov) leads
  // to this server's look-up, whatever port the demo was given.
  const receipt = await cp.request.get(`${dossierUrl}/forms/receipt.pdf`);
  assert.equal(receipt.status(), 200);
  const receiptPath = `${shots}/${label}-receipt.pdf`;
  writeFileSync(receiptPath, await receipt.body());
  execFileSync("pdftoppm", ["-r", "200", "-png", "-f", "1", "-l", "1", receiptPath, `${shots}/${label}-receipt`]);
  const png = readdirSync(shots).find((f) => f.startsWith(`${label}-receipt-`) && f.endsWith(".png"));
  const qr = execFileSync("zbarimg", ["-q", "--raw", `${shots}/${png}`], { encoding: "utf8" }).trim();
  const receiptText = execFileSync("pdftotext", ["-enc", "UTF-8", receiptPath, "-"], { encoding: "utf8" }).replace(/\s+/g, " ");
  assert.match(receiptText, /\(đã nộp, tiền mặt\)/, "the fee paid at the counter is on the receipt");
  assert.match(receiptText, /TRUNG TÂM PHỤC VỤ/, "issued by the ward's public administration centre");
  const dossierCode = (await cp.locator("h1 .code").textContent()).trim();
  assert.ok(qr.startsWith(`${base}/tra-cuu?token=`), `the receipt's QR code leads to ${qr}, not to ${base}`);
  // The demo's own PKI works from the README's relative data directory, and the command line
  // judges with the demo's trust list: a PDF signed with a demo leader's key is valid.
  if (process.env.EGOV_BIN && process.env.EGOV_DATA_DIR) {
    const cwd = dirname(process.env.EGOV_DATA_DIR);
    const signedPath = `${cwd}/receipt-signed.pdf`;
    execFileSync(process.env.EGOV_BIN, ["pki", "sign", "--key", "egov-data/pki/person-giamdoc.snv.key.pem", "--cert", "egov-data/pki/person-giamdoc.snv.pem", "--key-password-file", "egov-data/pki/kek", resolve(receiptPath), signedPath], { cwd });
    const verdict = execFileSync(process.env.EGOV_BIN, ["pki", "verify", "--json", signedPath], { cwd, encoding: "utf8" });
    const report = JSON.parse(verdict);
    assert.equal(report.signatures.length, 1);
    assert.equal(report.signatures[0].status, "valid", `egov pki verify in the demo's directory: ${verdict}`);
    // A deputy countersigns with pyHanko, as another agency's tool would: egov still calls the
    // first signature valid, and pyHanko agrees on both.
    if (process.env.EGOV_PYHANKO) {
      const both = `${cwd}/receipt-countersigned.pdf`;
      // pyHanko takes the signer's certificate alone: the first of the chain file.
      const chain = readFileSync(`${cwd}/egov-data/pki/person-phogiamdoc.snv.pem`, "utf8");
      const end = "-----END CERTIFICATE-----";
      writeFileSync(`${cwd}/deputy.pem`, chain.slice(0, chain.indexOf(end) + end.length) + "\n");
      execFileSync(process.env.EGOV_PYHANKO, ["sign", "addsig", "--field", "PhoGiamDoc", "--use-pades", "pemder", "--key", "egov-data/pki/person-phogiamdoc.snv.key.pem", "--cert", "deputy.pem", "--chain", "egov-data/pki/root.pem", "--passfile", "egov-data/pki/kek", signedPath, both], { cwd });
      let twice;
      try {
        twice = JSON.parse(execFileSync(process.env.EGOV_BIN, ["pki", "verify", "--json", both], { cwd, encoding: "utf8" }));
      } catch (e) {
        throw new Error(`egov pki verify on the countersigned receipt: ${e.stdout}`);
      }
      assert.deepEqual(twice.signatures.map((x) => x.status), ["valid", "valid"]);
      const judged = execFileSync(process.env.EGOV_PYHANKO, ["sign", "validate", "--pretty-print", "--no-revocation-check", "--trust-replace", "--trust", "egov-data/pki/root.pem", both], { cwd, encoding: "utf8" });
      assert.equal((judged.match(/judged VALID/g) || []).length, 2, judged);
    }
  }
  await cp.goto(`${base}/onestop`);
  await check(cp, "queue");
  await cp.goto(`${base}/onestop/search?q=do+minh+tuan`);
  await cp.getByText("Đỗ Minh Tuấn").first().waitFor();
  await check(cp, "dossier search");
  await cp.goto(`${base}/onestop/register`);
  await check(cp, "register");
  await cp.goto(`${base}/onestop/stats`);
  await check(cp, "statistics");
  await cp.goto(`${base}/onestop/procedures?q=ho+tich`);
  await check(cp, "procedures");
  await cp.setViewportSize({ width: 360, height: 740 });
  for (const [name, path] of [["counter", "/onestop/counter?procedure=9.000008"], ["dossier", new URL(dossierUrl).pathname], ["queue", "/onestop"]]) {
    await cp.goto(`${base}${path}`);
    await noSidewaysScroll(cp, name);
    await cp.screenshot({ path: `${shots}/${label}-360-${name}.png`, fullPage: true });
  }
  await desk.close();

  // The records clerk registers a paper document with its scan, on one page; the leader
  // directs it from the list (choose the lead, press Assign); the specialist finds it in
  // what they handle.
  const scanPath = `${shots}/${label}-scan.pdf`;
  (await import("node:fs")).writeFileSync(scanPath, "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n");
  const office = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const op = await office.newPage();
  await signIn(op, "vanthu.snv", false);
  await op.goto(`${base}/documents/incoming/new`);
  await check(op, "incoming form");
  assert.equal(await op.evaluate(() => document.activeElement.id), "issuer_name", "the form starts at the sender");
  await op.keyboard.type("Bộ Nội vụ");
  await tabTo(op, "#notation");
  await op.keyboard.type("1234/BNV-TCBC");
  await tabTo(op, "#subject");
  await op.keyboard.type("Về việc hướng dẫn sắp xếp tổ chức bộ máy");
  await op.setInputFiles("#scan", scanPath);
  await tabTo(op, 'button[type="submit"].button:not(.secondary)');
  await op.keyboard.press("Enter");
  await op.getByText(/Đã vào sổ, số đến 1\./).waitFor();
  assert.equal(await op.evaluate(() => document.activeElement.id), "issuer_name", "back to an empty form for the next one");
  await op.goto(`${base}/documents/registers`);
  await op.getByText("1234/BNV-TCBC").waitFor();
  await check(op, "incoming register");
  await op.goto(`${base}/documents`);
  await check(op, "clerk work list");
  await office.close();

  const lead = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const lp = await lead.newPage();
  await signIn(lp, "giamdoc.snv", false);
  await lp.goto(`${base}/documents`);
  await check(lp, "leader work list");
  const item = lp.locator("ul.worklist li", { hasText: "1234/BNV-TCBC" });
  const select = item.getByLabel("Người chủ trì");
  await select.selectOption(await select.evaluate((s) => [...s.options].find((o) => o.text.includes("Ngô Thị Thu")).value));
  await item.getByRole("button", { name: "Giao xử lý" }).click();
  await lp.getByText(/Đã thực hiện: Giao xử lý/).waitFor();
  assert.equal(await lp.locator("ul.worklist li", { hasText: "1234/BNV-TCBC" }).count(), 0, "no longer waiting");
  // The leader sends their signature image for approval…
  const sigPng = `${shots}/${label}-signature.png`;
  writeFileSync(sigPng, discPng(120, 60, [20, 40, 190]));
  await lp.goto(`${base}/signatures`);
  await check(lp, "signatures");
  await lp.setInputFiles("#png", sigPng);
  await lp.getByRole("button", { name: "Gửi phê duyệt" }).click();
  await lp.getByText(/Đã gửi mẫu/).waitFor();
  await lp.getByText("Chờ phê duyệt").waitFor();
  await check(lp, "signature image sent");
  await lead.close();
  // … and the agency's administrator approves it.
  const adm = await browser.newContext({ bypassCSP: true, locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const ad = await adm.newPage();
  await signIn(ad, "quantri.snv", true);
  await ad.goto(`${base}/signatures`);
  await ad.getByRole("button", { name: "Phê duyệt", exact: true }).click();
  await ad.getByText(/Đã phê duyệt mẫu/).waitFor();
  await check(ad, "signature image approved");
  await noSidewaysScroll(ad, "signatures at 360");
  await adm.close();

  const spec = await browser.newContext({ bypassCSP: true, locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const sp = await spec.newPage();
  await signIn(sp, "chuyenvien.snv", false);
  await sp.goto(`${base}/documents`);
  await sp.getByText("1234/BNV-TCBC").waitFor();
  await check(sp, "specialist work list");
  await noSidewaysScroll(sp, "documents at 360");
  await sp.getByText("1234/BNV-TCBC").click();
  await sp.getByRole("heading", { name: /1234\/BNV-TCBC/ }).waitFor();
  await check(sp, "document");
  await noSidewaysScroll(sp, "document at 360");
  await sp.screenshot({ path: `${shots}/${label}-360-document.png`, fullPage: true });
  await spec.close();

  // A specialist drafts in the browser (kind, subject, two recipients, the PDF and an
  // attachment), the head of division returns it with a comment, the specialist submits it
  // again, the head approves, the director signs off, the clerk issues, and the ward's records
  // clerk registers it. Nobody is shown a button they may not press.
  const draftPdf = new URL("../crates/web/tests/it/draft.pdf", import.meta.url).pathname;
  const journey = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const jp = await journey.newPage();
  await signIn(jp, "chuyenvien.snv", false);
  await jp.goto(`${base}/documents`);
  assert.equal(await jp.getByRole("link", { name: "Vào sổ văn bản đến" }).count(), 0, "a specialist does not register incoming documents");
  await jp.getByRole("link", { name: "Soạn văn bản" }).first().click();
  await jp.getByRole("heading", { name: "Soạn văn bản" }).waitFor();
  await check(jp, "new draft");
  await jp.getByLabel("Trích yếu").fill("Về việc rà soát biên chế năm 2027");
  await jp.getByLabel("Nơi nhận", { exact: true }).selectOption([{ label: "Ủy ban nhân dân phường Hạc Thành" }, { label: "Sở Tư pháp" }]);
  // And a ministry outside egov, from the exchange hub's directory (the demo starts a local hub).
  await jp.getByLabel(/Nơi nhận ngoài hệ thống/).selectOption({ label: "Bộ Nội vụ (000.00.00.G09)" });
  await jp.setInputFiles("#main_file", draftPdf);
  await jp.setInputFiles("#attachments", draftPdf);
  await jp.getByRole("button", { name: "Lưu dự thảo" }).click();
  await jp.getByText(/Đã lưu dự thảo/).waitFor();
  const draftUrl = jp.url();
  assert.match(draftUrl, /\/documents\/\d+$/);
  await check(jp, "draft");
  assert.equal(await jp.getByRole("button", { name: "Duyệt, trình ký" }).count(), 0, "not the drafter's own approval");
  await jp.getByRole("button", { name: "Trình duyệt" }).click();
  await jp.getByText(/Đã thực hiện: Trình duyệt/).waitFor();
  const asPerson = async (user, withTotp, fn) => {
    const ctx = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
    const p = await ctx.newPage();
    await signIn(p, user, withTotp);
    await p.goto(draftUrl);
    try { await fn(p); } finally { await ctx.close(); }
  };
  await asPerson("truongphong.snv", false, async (p) => {
    await p.getByLabel("Ý kiến").fill("Bổ sung số liệu của phụ lục");
    await p.getByRole("button", { name: "Trả lại" }).click();
    await p.getByText(/Đã thực hiện: Trả lại/).waitFor();
  });
  await jp.goto(draftUrl);
  await jp.getByText("Bổ sung số liệu của phụ lục").waitFor();
  await jp.getByLabel("Loại tệp").selectOption("attachment");
  await jp.setInputFiles("#file", draftPdf);
  await jp.getByRole("button", { name: "Thêm tệp" }).click();
  await jp.getByText(/Đã thêm tệp/).waitFor();
  await jp.getByRole("button", { name: "Trình duyệt" }).click();
  await jp.getByText(/Đã thực hiện: Trình duyệt/).waitFor();
  await asPerson("truongphong.snv", false, async (p) => {
    await p.getByRole("button", { name: "Duyệt, trình ký" }).click();
    await p.getByText(/Đã thực hiện: Duyệt, trình ký/).waitFor();
  });
  await asPerson("giamdoc.snv", false, async (p) => {
    await check(p, "sign-off");
    await p.getByRole("button", { name: "Ký duyệt, cấp số" }).click();
    await p.getByText(/Đã thực hiện: Ký duyệt, cấp số/).waitFor();
  });
  await asPerson("vanthu.snv", false, async (p) => {
    await p.getByRole("button", { name: "Phát hành" }).click();
    await p.getByText(/Đã thực hiện: Phát hành/).waitFor();
    // The ministry got it as an edXML packet through the hub and answers: its statuses come
    // back and show beside it on the document's page (01 arrived, then 03 registered).
    const deadline = Date.now() + 40000;
    while (!(await p.getByText(/03 – Đã vào sổ/).count())) {
      assert.ok(Date.now() < deadline, "the ministry's status 03 shows on the sender's page");
      await p.waitForTimeout(1000);
      await p.reload();
    }
    await p.getByRole("heading", { name: "Trạng thái cơ quan ngoài hệ thống báo về" }).waitFor();
    await check(p, "issued to a ministry outside egov");
  });
  await asPerson("chutich.hacthanh", false, async (p) => {
    assert.equal(await p.getByRole("button", { name: "Vào sổ" }).count(), 0, "the chairman does not register");
  });
  await asPerson("vanthu.hacthanh", false, async (p) => {
    await check(p, "delivered document");
    await p.getByRole("button", { name: "Vào sổ" }).click();
    await p.getByText(/Đã thực hiện: Vào sổ/).waitFor();
  });
  // The ward's chairman directs it on its page: a lead and a coordinator, five working days.
  const pick = async (select, name) => select.selectOption(await select.evaluate((s, n) => [...s.options].find((o) => o.text.includes(n)).value, name));
  await asPerson("chutich.hacthanh", false, async (p) => {
    await pick(p.getByLabel("Người chủ trì", { exact: true }), "Lê Thị Thanh");
    await p.getByText("Phối hợp", { exact: true }).click();
    await pick(p.getByLabel("Người phối hợp"), "Mai Thị Nhung");
    await p.getByLabel(/Hạn giải quyết/).fill("5");
    await p.getByRole("button", { name: "Giao xử lý" }).click();
    await p.getByText(/Đã thực hiện: Giao xử lý/).waitFor();
    await p.getByText("Mai Thị Nhung").first().waitFor();
    await check(p, "directed document");
  });
  // The lead completes it with the outcome, read back in the timeline.
  await asPerson("congchuc.hacthanh", false, async (p) => {
    await p.getByLabel("Kết quả xử lý").fill("Đã rà soát, không có vướng mắc");
    await p.getByRole("button", { name: "Hoàn thành" }).click();
    await p.getByText(/Đã thực hiện: Hoàn thành/).waitFor();
    await p.getByText("Đã rà soát, không có vướng mắc").waitFor();
  });
  await journey.close();

  // A citizen on a phone looks the dossier up.
  const citizen = await browser.newContext({ bypassCSP: true, locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const pp = await citizen.newPage();
  await pp.goto(`${base}/tra-cuu`);
  await check(pp, "look-up");
  // The code as typed on a phone, in lower case; the answer says where to collect the result.
  await pp.getByLabel("Mã hồ sơ").fill(dossierCode.toLowerCase());
  await pp.getByLabel(/Số điện thoại/).fill("0915678901");
  await pp.getByRole("button", { name: /Tra cứu/ }).click();
  await pp.getByText("Nơi nhận kết quả").waitFor();
  await pp.getByText("Trung tâm Phục vụ hành chính công phường Hạc Thành").waitFor();
  await check(pp, "look-up result");
  await noSidewaysScroll(pp, "look-up");
  await citizen.close();

  // A citizen submits on the national portal's stand-in (on a phone), files included; egov takes
  // the dossier in, and it waits in the Hạc Thành one-stop officer's queue.
  const fakeUrl = (readFileSync(process.env.EGOV_DEMO_LOG, "utf8").match(/stand-in: (http:\/\/[^/\s]+)\//) || [])[1];
  assert.ok(fakeUrl, "egov demo printed the address of its national portal stand-in");
  const online = await browser.newContext({ locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const np = await online.newPage();
  await np.goto(`${fakeUrl}/submit`);
  await np.getByLabel("Họ và tên").fill("Hoàng Thị Lan Chi");
  await np.getByLabel("Số định danh cá nhân").fill("038190004599");
  await np.locator("#f1").setInputFiles(resolve("../crates/app/tests/fixtures/national/files/to-khai.pdf"));
  await np.locator("#f2").setInputFiles(resolve("../crates/app/tests/fixtures/national/files/can-cuoc.pdf"));
  await np.getByRole("button", { name: "Nộp hồ sơ" }).click();
  await np.getByRole("heading", { name: "Đã nộp hồ sơ" }).waitFor();
  const nationalCode = await np.locator("strong").first().innerText();
  await online.close();
  const officerDesk = await browser.newContext({ bypassCSP: true, locale: "vi-VN" });
  const qp = await officerDesk.newPage();
  await signIn(qp, "motcua.hacthanh", false);
  let arrived = false;
  for (let i = 0; i < 40 && !arrived; i++) {
    await qp.goto(`${base}/onestop`);
    arrived = (await qp.getByText("Hoàng Thị Lan Chi").count()) > 0;
    if (!arrived) await qp.waitForTimeout(500);
  }
  assert.ok(arrived, `the online dossier ${nationalCode} reached the officer's queue`);
  await check(qp, "online dossier in the queue");
  // The queue of online dossiers to check: open it, see the portal's flags, open a file in the
  // browser, accept it; the stand-in then holds it as received (national status 2).
  await qp.goto(`${base}/onestop/online`);
  await check(qp, "online queue");
  await qp.setViewportSize({ width: 360, height: 740 });
  await noSidewaysScroll(qp, "online queue at 360");
  await qp.setViewportSize({ width: 1280, height: 800 });
  await qp.getByRole("link", { name: nationalCode }).click();
  await qp.getByText("Tài khoản VNeID").first().waitFor();
  await check(qp, "online dossier to check");
  // The procedure's rules open beside the dossier.
  const rulesHref = await qp.getByRole("link", { name: /Quy định của thủ tục/ }).getAttribute("href");
  const rules = await qp.request.get(`${base}${rulesHref}`);
  assert.equal(rules.status(), 200);
  assert.ok((await rules.text()).includes("Cấp Giấy xác nhận tình trạng hôn nhân"), "the procedure's page");
  const scanHref = await qp.locator('a[href*="/scans/TP1"]').first().getAttribute("href");
  const scan = await qp.request.get(`${base}${scanHref}`);
  assert.equal(scan.status(), 200);
  assert.equal(scan.headers()["content-type"], "application/pdf");
  // Before accepting, the officer asks for a clearer copy of the ID card; the citizen sees the
  // request on the portal (on a phone) and answers it with a file; the dossier comes back to the
  // officer's check.
  const onlineDossierUrl = qp.url();
  await qp.getByText("Yêu cầu bổ sung hồ sơ", { exact: true }).first().click();
  await qp.getByLabel("Các nội dung cần bổ sung").fill("Bản chụp căn cước rõ nét, đủ hai mặt");
  await qp.getByRole("button", { name: "Yêu cầu bổ sung hồ sơ" }).click();
  await qp.getByText("Chờ bổ sung").first().waitFor();
  const phone = await browser.newContext({ locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const citizenPhone = await phone.newPage();
  let asked = false;
  for (let i = 0; i < 40 && !asked; i++) {
    await citizenPhone.goto(`${fakeUrl}/`);
    asked = (await citizenPhone.locator(`a[href="/supplement/${nationalCode}"]`).count()) > 0;
    if (!asked) await citizenPhone.waitForTimeout(500);
  }
  assert.ok(asked, `the portal's stand-in offers to supplement ${nationalCode}`);
  await citizenPhone.locator(`a[href="/supplement/${nationalCode}"]`).click();
  await citizenPhone.getByText("Bản chụp căn cước rõ nét, đủ hai mặt").waitFor();
  await citizenPhone.locator("#f1").setInputFiles(resolve("../crates/app/tests/fixtures/national/files/can-cuoc-bo-sung.pdf"));
  await citizenPhone.getByRole("button", { name: "Gửi bổ sung" }).click();
  await citizenPhone.getByRole("heading", { name: "Đã gửi bổ sung" }).waitFor();
  await phone.close();
  let back = false;
  for (let i = 0; i < 40 && !back; i++) {
    await qp.goto(onlineDossierUrl);
    back = (await qp.getByRole("button", { name: "Tiếp nhận", exact: true }).count()) > 0;
    if (!back) await qp.waitForTimeout(500);
  }
  assert.ok(back, "the supplement came back and the dossier waits for the check again");
  await check(qp, "online dossier supplemented");
  await qp.getByRole("button", { name: "Tiếp nhận", exact: true }).click();
  await qp.getByText("Đã tiếp nhận").first().waitFor();
  let received = false;
  for (let i = 0; i < 40 && !received; i++) {
    const held = await (await qp.request.get(`${fakeUrl}/_state`)).json();
    received = held.dossiers?.[nationalCode]?.TrangThaiHoSo === "2";
    if (!received) await qp.waitForTimeout(500);
  }
  assert.ok(received, `the portal's stand-in holds ${nationalCode} as received`);
  await officerDesk.close();

  // The operator (still signed in) sees the counter's dossiers reported to the national portal:
  // the worker synchronises every two seconds.
  const synced = () => ap.locator("ul.stats").first().locator("li", { hasText: "Đã đồng bộ" }).locator("strong").innerText();
  let done = 0;
  for (let i = 0; i < 40 && done < 1; i++) {
    await ap.goto(`${base}/admin/national-portal`);
    done = parseInt(await synced(), 10);
    if (done < 1) await ap.waitForTimeout(500);
  }
  assert.ok(done >= 1, "the counter's dossier reached the national portal's stand-in");
  await ap.getByText("Không có nội dung nào bị từ chối.").waitFor();
  // The national catalogue, pulled when the worker started: one procedure changed since ours.
  await ap.getByRole("cell", { name: "thời hạn giải quyết" }).waitFor();
  await check(ap, "national portal synchronised");
  await ap.setViewportSize({ width: 360, height: 740 });
  await noSidewaysScroll(ap, "national portal at 360");
  await admin.close();

  // The province's chair on a phone: the dashboard, the index, the list behind a figure,
  // what-if; then anyone, not signed in, reads the public statistics.
  const leader = await browser.newContext({ bypassCSP: true, locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const chairPage = await leader.newPage();
  await signIn(chairPage, "chutich.tinh", Boolean(account("chutich.tinh").totp_secret));
  await chairPage.goto(`${base}/dashboard`);
  await chairPage.getByRole("heading", { name: "Bảng điều hành" }).waitFor();
  assert.ok((await chairPage.locator("svg.chart").count()) >= 3, "the dashboard draws its charts");
  await check(chairPage, "dashboard");
  await noSidewaysScroll(chairPage, "dashboard at 360");
  await chairPage.screenshot({ path: `${shots}/${label}-360-dashboard.png`, fullPage: true });
  await chairPage.goto(`${base}/scorecard`);
  await chairPage.locator("#i-2\\.1").waitFor();
  await check(chairPage, "scorecard");
  await noSidewaysScroll(chairPage, "scorecard at 360");
  await chairPage.screenshot({ path: `${shots}/${label}-360-scorecard.png`, fullPage: true });
  // The received dossiers behind 3.3's denominator not submitted online: the counter's.
  const notMet = chairPage.locator("#i-3\\.3 td").last().locator("a");
  if ((await notMet.count()) > 0) {
    await notMet.click();
    await chairPage.getByRole("link", { name: /Tải về tệp Excel/ }).waitFor();
    await check(chairPage, "scorecard list");
    await noSidewaysScroll(chairPage, "scorecard list at 360");
  }
  await chairPage.goto(`${base}/scorecard/what-if`);
  await chairPage.getByRole("heading", { name: "Giả định và việc cần làm" }).waitFor();
  await check(chairPage, "what-if");
  await noSidewaysScroll(chairPage, "what-if at 360");
  await leader.close();
  const visitor = await browser.newContext({ bypassCSP: true, locale: "vi-VN", viewport: { width: 360, height: 740 } });
  const vp = await visitor.newPage();
  await vp.goto(`${base}/thong-ke`);
  await vp.getByRole("link", { name: "Tải về CSV" }).waitFor();
  await check(vp, "public statistics");
  await noSidewaysScroll(vp, "public statistics at 360");
  await visitor.close();
} finally {
  await browser.close();
}
console.log(JSON.stringify({ browser_tests: "passed", label, axe: results }, null, 0));
