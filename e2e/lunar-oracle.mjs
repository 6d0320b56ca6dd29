// Prints the lunar date of every solar day in [FROM, TO] (years) as computed by the npm package
// `vietnamese-lunar-calendar`, an independent implementation used only as a test oracle for
// egov's own lunar calendar. It uses the machine's time zone: run with TZ=Asia/Ho_Chi_Minh.
// Output: one line per day, "YYYY-MM-DD day month year leap(0|1)".
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { LunarDate } = require("vietnamese-lunar-calendar");
const [from, to] = process.argv.slice(2).map(Number);
if (-new Date(2000, 0, 1).getTimezoneOffset() !== 420) {
  console.error("run with TZ=Asia/Ho_Chi_Minh: the oracle uses the machine's time zone");
  process.exit(2);
}
const out = [];
for (let y = from; y <= to; y++) {
  for (let m = 1; m <= 12; m++) {
    const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
    for (let d = 1; d <= days; d++) {
      const l = new LunarDate(y, m, d);
      out.push(`${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")} ${l.date} ${l.month} ${l.year} ${l.isLeap ? 1 : 0}`);
    }
  }
}
process.stdout.write(out.join("\n") + "\n");
