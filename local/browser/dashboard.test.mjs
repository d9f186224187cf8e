// Drives the /dashboard page in Debian's headless Chromium through playwright-core (no bundled
// browser is downloaded). Run by a Rust integration test against a live harness:
//
//   DASHBOARD_URL=http://127.0.0.1:PORT API_TOKEN=... \
//   EXPECTED_STATS='{"pending":3,...,"expired":1,"total":9,"deliveries":{"delivered":2,"undelivered":1}}' \
//   FAILED_MESSAGE_ID=<uuid> EXPECTED_ATTEMPTS='[{"number":1,"status_code":503,...},...]' \
//   EXPIRED_MESSAGE_ID=<uuid> DELIVERED_MESSAGE_ID=<uuid> UNDELIVERED_MESSAGE_ID=<uuid> \
//   SCREENSHOT_DIR=/tmp/shots node local/browser/dashboard.test.mjs
//
// It logs in through the page's token form, checks the tiles (every status, expired among them,
// and the delivered and undelivered counts), stops the scheduler, opens the failed message
// FAILED_MESSAGE_ID's detail from its row (its state and its attempt log, which must be
// EXPECTED_ATTEMPTS: oldest first, each {"number","status_code" (null: no answer),
// "outcome","error_code","response_body" (optional)}), opens another failed message's detail
// in its place, closes it with Escape and the close button, filters the message list to the
// expired messages and opens EXPIRED_MESSAGE_ID's detail (when it expired), then to the
// delivered and the undelivered ones and opens DELIVERED_MESSAGE_ID's and
// UNDELIVERED_MESSAGE_ID's (their delivery receipts; each must be the newest of its kind, so on
// the list's first page), filters it to the campaign CAMPAIGN (every one of its messages pending,
// low priority) and cancels that campaign (refusing first, then confirming), retries the failed
// message from its button, checks the receiver
// panel, retries the rest with "Retry all" and looks at phone width.
// Screenshots: dashboard.png, dashboard-detail.png and dashboard-phone.png in SCREENSHOT_DIR.
//
// CHROMIUM (default /usr/bin/chromium) picks the browser. Exits 0 after printing
// "dashboard browser test passed", else prints one "dashboard browser test failed: ..." line
// and exits 1. The server must require API_TOKEN and have its scheduler running at the start,
// and at least two failed messages (one is retried alone, the rest with "Retry all").
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

const OVERALL_TIMEOUT_MS = 90_000;
const WAIT_MS = 10_000;
const STATUSES = ['pending', 'processing', 'sent', 'failed', 'cancelled', 'expired', 'total'];
const DELIVERIES = ['delivered', 'undelivered'];
/** Rows the message list shows at most. */
const LIST_LIMIT = 10;
const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

class Failure extends Error {}
const fail = (message) => {
  throw new Failure(message);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function required(name) {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is not set`);
  return value;
}

function requiredJson(name) {
  try {
    return JSON.parse(required(name));
  } catch (error) {
    if (error instanceof Failure) throw error;
    fail(`${name} is not JSON: ${error.message}`);
  }
}

function readConfig() {
  const base = required('DASHBOARD_URL').replace(/\/+$/, '');
  const token = required('API_TOKEN');
  const expected = requiredJson('EXPECTED_STATS');
  for (const status of STATUSES) {
    if (!Number.isInteger(expected?.[status])) fail(`EXPECTED_STATS.${status} is not an integer`);
  }
  for (const delivery of DELIVERIES) {
    if (!Number.isInteger(expected.deliveries?.[delivery])) fail(`EXPECTED_STATS.deliveries.${delivery} is not an integer`);
  }
  if (expected.expired < 1 || expected.deliveries.delivered < 1 || expected.deliveries.undelivered < 1) {
    fail('EXPECTED_STATS needs an expired, a delivered and an undelivered message');
  }
  if (expected.failed < 2) fail('EXPECTED_STATS.failed must be at least 2 (one failed message is retried alone)');
  const attempts = requiredJson('EXPECTED_ATTEMPTS');
  if (!Array.isArray(attempts) || attempts.length < 1) fail('EXPECTED_ATTEMPTS is not a non-empty JSON array');
  const textOrNull = (value) => value === null || typeof value === 'string';
  attempts.forEach((attempt, i) => {
    const ok =
      Number.isInteger(attempt?.number) &&
      (attempt.status_code === null || Number.isInteger(attempt.status_code)) &&
      ['sent', 'retry', 'failed'].includes(attempt.outcome) &&
      textOrNull(attempt.error_code) &&
      (attempt.response_body === undefined || textOrNull(attempt.response_body));
    const shape = '{"number","status_code","outcome","error_code"[,"response_body"]}';
    if (!ok) fail(`EXPECTED_ATTEMPTS[${i}] is not ${shape}: ${JSON.stringify(attempt)}`);
  });
  return {
    base,
    token,
    expected,
    attempts,
    failedId: required('FAILED_MESSAGE_ID'),
    expiredId: required('EXPIRED_MESSAGE_ID'),
    deliveredId: required('DELIVERED_MESSAGE_ID'),
    undeliveredId: required('UNDELIVERED_MESSAGE_ID'),
    campaign: required('CAMPAIGN'),
    screenshotDir: required('SCREENSHOT_DIR'),
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  };
}

/** Polls `probe` (returning {ok, seen}) until ok or `timeoutMs`, then fails naming what was last seen. */
async function expectSoon(what, probe, timeoutMs = WAIT_MS) {
  const deadline = Date.now() + timeoutMs;
  let seen = 'nothing yet';
  for (;;) {
    try {
      const result = await probe();
      if (result.ok) return result;
      seen = result.seen;
    } catch (error) {
      seen = `error: ${error.message.split('\n')[0]}`;
    }
    if (Date.now() > deadline) fail(`${what} within ${timeoutMs / 1000} s (last seen: ${seen})`);
    await sleep(100);
  }
}

async function apiGet(config, route) {
  const response = await fetch(`${config.base}${route}`, {
    headers: { Authorization: `Bearer ${config.token}`, Accept: 'application/json' },
  });
  if (!response.ok) fail(`GET ${route} answered HTTP ${response.status}`);
  return response.json();
}

async function run(config, state) {
  mkdirSync(config.screenshotDir, { recursive: true });
  try {
    state.browser = await chromium.launch({ executablePath: config.executablePath, args: LAUNCH_ARGS });
  } catch (error) {
    fail(`could not launch ${config.executablePath}: ${error.message.split('\n')[0]}`);
  }
  const context = await state.browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);

  // 1. Every console error and uncaught exception, from the start. The page knows from the
  // server that a token is needed and asks for it before calling the API, so not even a 401
  // is expected.
  const errors = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const url = message.location().url || '';
    errors.push(`console error: ${message.text()}${url ? ` (${url})` : ''}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught exception: ${error.message.split('\n')[0]}`));
  page.on('dialog', (dialog) => {
    errors.push(`unexpected ${dialog.type()} dialog: ${dialog.message()}`);
    dialog.dismiss().catch(() => {});
  });
  const byTestId = (id) => page.locator(`[data-testid="${id}"]`);
  const text = async (id) => ((await byTestId(id).textContent({ timeout: 1_000 })) ?? '').trim();
  // What the page itself says went wrong, for the failure message.
  const pageSays = async () => {
    const said = [];
    for (const id of ['error-banner', 'notice']) {
      if (await byTestId(id).isVisible()) said.push(`${id}: "${await text(id)}"`);
    }
    return said.length ? `; the page shows ${said.join(', ')}` : '';
  };

  // 2. The page asks for the token in its own form.
  let response;
  try {
    response = await page.goto(`${config.base}/dashboard`, { waitUntil: 'domcontentloaded' });
  } catch (error) {
    fail(`could not open ${config.base}/dashboard: ${error.message.split('\n')[0]}`);
  }
  if (!response || response.status() !== 200) fail(`GET /dashboard answered HTTP ${response?.status()}`);
  const contentType = response.headers()['content-type'] || '';
  if (!contentType.startsWith('text/html')) fail(`GET /dashboard has content-type "${contentType}", not text/html`);
  try {
    await byTestId('token-form').waitFor({ state: 'visible' });
  } catch {
    fail('the token form (data-testid="token-form") did not appear although the server requires a token');
  }
  await byTestId('token-input').fill(config.token);
  await byTestId('token-submit').click();
  try {
    await byTestId('token-form').waitFor({ state: 'hidden' });
  } catch {
    fail('the token form stayed visible after the right token was submitted');
  }

  // 3. The tiles show the expected counts: every status and the deliveries.
  const tilesMatch = async (want) => {
    const seen = {};
    for (const status of STATUSES) seen[status] = await text(`tile-${status}`);
    for (const delivery of DELIVERIES) seen[delivery] = await text(`tile-${delivery}`);
    const ok =
      STATUSES.every((status) => seen[status] === String(want[status])) &&
      DELIVERIES.every((delivery) => seen[delivery] === String(want.deliveries[delivery]));
    return { ok, seen: JSON.stringify(seen) + (ok ? '' : await pageSays()) };
  };
  await expectSoon(`the tiles did not show ${JSON.stringify(config.expected)}`, () => tilesMatch(config.expected));

  // 4. The scheduler is running; the toggle stops it.
  await expectSoon('scheduler-state did not show "running"', async () => {
    const seen = await text('scheduler-state');
    return { ok: seen === 'running', seen: `"${seen}"` };
  });
  const toggleLabel = await text('scheduler-toggle');
  if (toggleLabel !== 'Stop') fail(`scheduler-toggle reads "${toggleLabel}" while running, not "Stop"`);
  await byTestId('scheduler-toggle').click();
  await expectSoon('scheduler-state did not show "stopped" after clicking Stop', async () => {
    const seen = await text('scheduler-state');
    const label = await text('scheduler-toggle');
    const ok = seen === 'stopped' && label === 'Start';
    return { ok, seen: `state "${seen}", button "${label}"${ok ? '' : await pageSays()}` };
  });
  const status = await apiGet(config, '/api/v1/scheduler/status');
  if (status.state !== 'stopped') fail(`the API says the scheduler is "${status.state}" after clicking Stop`);

  // 5. The failed message is listed; the chart and the runs table are there.
  const row = page.locator(`[data-testid="failed-list"] [data-message-id="${config.failedId}"]`);
  try {
    await row.waitFor({ state: 'visible' });
  } catch {
    fail(`failed-list has no row with data-message-id="${config.failedId}"`);
  }
  for (const id of ['throughput-chart', 'runs-table']) {
    if (!(await byTestId(id).isVisible())) fail(`data-testid="${id}" is missing or hidden`);
  }

  // 6. Desktop screenshot, with the failed messages still listed and no toast over them.
  if (await byTestId('notice').isVisible()) await byTestId('notice').click();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(config.screenshotDir, 'dashboard.png'), fullPage: true });

  // 7. Clicking the failed message's row opens its detail: its state, and its attempt log as
  // seeded, oldest first. A refresh leaves it open; another row's click replaces it; Escape and
  // the close button close it, the focus back on the row that opened it (the keyboard opens it
  // too). Everything is read before the retries below take the messages out of the list.
  const seeded = await apiGet(config, `/api/v1/messages/${encodeURIComponent(config.failedId)}`);
  if (seeded.status !== 'failed' || !seeded.error_code) {
    fail(`the API has the message ${seeded.status} with error code ${seeded.error_code}, not failed with one`);
  }
  const detail = byTestId('message-detail');
  // The detail as the page shows it, cell by cell.
  const readDetail = () =>
    page.evaluate(() => {
      const dialog = document.querySelector('[data-testid="message-detail"]');
      const read = (root, id) => root?.querySelector(`[data-testid="${id}"]`)?.textContent.trim() ?? null;
      const cells = ['number', 'status-code', 'outcome', 'error-code', 'response'];
      return {
        visible: Boolean(dialog?.checkVisibility()),
        id: read(dialog, 'detail-id'),
        status: read(dialog, 'detail-status'),
        attempts: read(dialog, 'detail-attempts'),
        errorCode: read(dialog, 'detail-error-code'),
        table: Boolean(dialog?.querySelector('[data-testid="attempts-table"]')),
        empty: read(dialog, 'attempts-empty'),
        rows: [...(dialog?.querySelectorAll('[data-testid="attempt-row"]') ?? [])].map((row) =>
          cells.map((cell) => read(row, `attempt-${cell}`)),
        ),
      };
    });
  // `attempts` as the table must show them: "no answer" for no HTTP status, "—" for none.
  const asRows = (attempts) =>
    attempts.map((a) => [
      String(a.number),
      a.status_code === null ? 'no answer' : String(a.status_code),
      a.outcome,
      a.error_code ?? '—',
    ]);
  const detailShows = (message, attempts) => async () => {
    const seen = await readDetail();
    const bodies = attempts.every((a, i) => {
      if (a.response_body === undefined) return true;
      const cell = seen.rows[i]?.[4] ?? '';
      return a.response_body === null ? cell === '—' : cell.includes(a.response_body);
    });
    const ok =
      seen.visible &&
      seen.id === message.id &&
      seen.status === message.status &&
      seen.attempts === `${message.attempts} of ${message.max_attempts}` &&
      seen.errorCode === (message.error_code ?? null) &&
      seen.table &&
      JSON.stringify(seen.rows.map((row) => row.slice(0, 4))) === JSON.stringify(asRows(attempts)) &&
      bodies &&
      (attempts.length > 0 || seen.empty === 'no attempts yet');
    return { ok, seen: JSON.stringify(seen) + (ok ? '' : await pageSays()) };
  };
  // Closed, the focus back on the row (its data-testid="open-<id>", in the message list
  // "list-open-<id>") that opened it.
  const closedBackOn = (id, prefix = 'open-') => async () => {
    const visible = await detail.isVisible();
    const focus = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null);
    return { ok: !visible && focus === `${prefix}${id}`, seen: `detail ${visible ? 'shown' : 'hidden'}, focus on ${focus}` };
  };
  const opener = byTestId(`open-${config.failedId}`);
  await opener.click({ position: { x: 8, y: 8 } });
  await expectSoon(
    `after clicking its row, message-detail did not show the message ${config.failedId} failed with ` +
      `${seeded.error_code} and the attempts ${JSON.stringify(asRows(config.attempts))}`,
    detailShows(seeded, config.attempts),
  );
  if (await byTestId('notice').isVisible()) await byTestId('notice').click();
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(config.screenshotDir, 'dashboard-detail.png') });
  const stamp = await byTestId('updated').textContent();
  await expectSoon('the page did not refresh with the detail open', async () => {
    const seen = await byTestId('updated').textContent();
    return { ok: seen !== stamp && seen.startsWith('Updated'), seen: `"${seen}"` };
  });
  await expectSoon('the detail did not stay as it was through a refresh', detailShows(seeded, config.attempts), 2_000);

  const other = await page
    .locator(`[data-testid="failed-list"] [data-message-id]:not([data-message-id="${config.failedId}"])`)
    .first()
    .getAttribute('data-message-id');
  const otherMessage = await apiGet(config, `/api/v1/messages/${encodeURIComponent(other)}`);
  const otherAttempts = (await apiGet(config, `/api/v1/messages/${encodeURIComponent(other)}/attempts`)).items;
  await byTestId(`open-${other}`).click({ position: { x: 8, y: 8 } });
  await expectSoon(
    `clicking another row (${other}) did not show its detail in place of the first`,
    detailShows(otherMessage, otherAttempts),
  );
  await page.keyboard.press('Escape');
  await expectSoon('Escape did not close the detail, the focus back on its row', closedBackOn(other));
  await opener.focus();
  await page.keyboard.press('Enter');
  await expectSoon('Enter on the focused row did not open its detail', detailShows(seeded, config.attempts));
  await byTestId('detail-close').click();
  await expectSoon('detail-close did not close the detail, the focus back on its row', closedBackOn(config.failedId));

  // 8. The message list: its status filter offers every status (expired among them), its
  // delivery filter delivered and undelivered. Filtered, it lists only such messages, as many
  // as the counts say (up to a page); a row opens the detail, which shows when an expired
  // message expired and a sent message's delivery receipt.
  const optionsOf = (id) => byTestId(id).locator('option').evaluateAll((options) => options.map((o) => o.value));
  const statusOptions = await optionsOf('filter-status');
  const wantStatusOptions = ['', ...STATUSES.filter((status) => status !== 'total')];
  if (JSON.stringify(statusOptions) !== JSON.stringify(wantStatusOptions)) {
    fail(`filter-status offers ${JSON.stringify(statusOptions)}, not ${JSON.stringify(wantStatusOptions)}`);
  }
  const deliveryOptions = await optionsOf('filter-delivery');
  if (JSON.stringify(deliveryOptions) !== JSON.stringify(['', ...DELIVERIES])) {
    fail(`filter-delivery offers ${JSON.stringify(deliveryOptions)}, not ${JSON.stringify(['', ...DELIVERIES])}`);
  }
  // The list's rows, each {id, status, delivery} as shown.
  const readList = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="messages-list"] li[data-message-id]')].map((li) => ({
        id: li.dataset.messageId,
        status: li.querySelector('[data-testid="list-status"]')?.textContent.trim() ?? null,
        delivery: li.querySelector('[data-testid="list-delivery"]')?.textContent.trim() ?? null,
      })),
    );
  // Filtered by `status` and `delivery` ('' for any), the list shows `count` rows (at most a
  // page) that all match, `id` among them.
  const filterList = async (status, delivery, count, id) => {
    await byTestId('filter-status').selectOption(status);
    await byTestId('filter-delivery').selectOption(delivery);
    const want = Math.min(count, LIST_LIMIT);
    await expectSoon(
      `filtered to status "${status}" and delivery "${delivery}", messages-list did not show ${want} such rows with ${id}`,
      async () => {
        const rows = await readList();
        const ok =
          rows.length === want &&
          rows.every((row) => (!status || row.status === status) && (!delivery || row.delivery === delivery)) &&
          rows.some((row) => row.id === id);
        return { ok, seen: JSON.stringify(rows) + (ok ? '' : await pageSays()) };
      },
    );
  };
  // The detail's fields for the expiry and the delivery; times as their <time datetime>.
  const readReceipt = () =>
    page.evaluate(() => {
      const dialog = document.querySelector('[data-testid="message-detail"]');
      const field = (id) => dialog?.querySelector(`[data-testid="${id}"]`) ?? null;
      const time = (id) => {
        const node = field(id);
        const at = node?.matches('time') ? node : node?.querySelector('time');
        return at ? { datetime: at.getAttribute('datetime'), text: at.textContent.trim() } : null;
      };
      return {
        visible: Boolean(dialog?.checkVisibility()),
        id: field('detail-id')?.textContent.trim() ?? null,
        status: field('detail-status')?.textContent.trim() ?? null,
        errorCode: field('detail-error-code')?.textContent.trim() ?? null,
        expiresLabel: field('detail-expires')?.previousElementSibling?.textContent.trim() ?? null,
        expires: time('detail-expires'),
        delivery: field('detail-delivery-status')?.textContent.trim() ?? null,
        deliveryAt: time('detail-delivery-at'),
        deliveryErrorCode: field('detail-delivery-error-code')?.textContent.trim() ?? null,
      };
    });
  const sameInstant = (shown, iso) =>
    Boolean(shown) && Date.parse(shown.datetime) === Date.parse(iso) && shown.text !== '' && shown.text !== '–';
  // Opens `id` from the list; its detail must show what `message` (from the API) says.
  const openFromList = async (message, what) => {
    await byTestId(`list-open-${message.id}`).click({ position: { x: 8, y: 8 } });
    await expectSoon(`after clicking its row in messages-list, message-detail did not show ${what}`, async () => {
      const seen = await readReceipt();
      const delivery = message.delivery;
      const ok =
        seen.visible &&
        seen.id === message.id &&
        seen.status === message.status &&
        seen.errorCode === (message.error_code ?? null) &&
        (message.expires_at ? sameInstant(seen.expires, message.expires_at) : seen.expires === null) &&
        (message.status !== 'expired' || seen.expiresLabel === 'Expired') &&
        (delivery
          ? seen.delivery === delivery.status &&
            sameInstant(seen.deliveryAt, delivery.at) &&
            seen.deliveryErrorCode === (delivery.error_code ?? null)
          : seen.delivery === null);
      return { ok, seen: JSON.stringify(seen) + (ok ? '' : await pageSays()) };
    });
  };
  const getMessage = (id) => apiGet(config, `/api/v1/messages/${encodeURIComponent(id)}`);

  const expired = await getMessage(config.expiredId);
  if (expired.status !== 'expired' || !expired.expires_at) {
    fail(`the API has the message ${config.expiredId} ${expired.status}, expiring at ${expired.expires_at}, not expired`);
  }
  await filterList('expired', '', config.expected.expired, config.expiredId);
  await openFromList(expired, `the message ${config.expiredId} expired at ${expired.expires_at}`);
  await byTestId('detail-close').click();
  await expectSoon('detail-close did not close the detail, the focus back on its row in messages-list', closedBackOn(config.expiredId, 'list-open-'));

  for (const [id, status] of [
    [config.deliveredId, 'delivered'],
    [config.undeliveredId, 'undelivered'],
  ]) {
    const sent = await getMessage(id);
    if (sent.status !== 'sent' || sent.delivery?.status !== status) {
      fail(`the API has the message ${id} ${sent.status} with delivery ${JSON.stringify(sent.delivery)}, not sent and ${status}`);
    }
    await filterList('', status, config.expected.deliveries[status], id);
    await openFromList(sent, `the message ${id} ${status} at ${sent.delivery.at} (error code ${sent.delivery.error_code})`);
    await page.keyboard.press('Escape');
    await expectSoon('Escape did not close the detail, the focus back on its row in messages-list', closedBackOn(id, 'list-open-'));
  }
  await byTestId('filter-status').selectOption('');
  await byTestId('filter-delivery').selectOption('');
  await expectSoon('with its filters cleared, messages-list did not show a page of messages', async () => {
    const rows = await readList();
    return { ok: rows.length === Math.min(config.expected.total, LIST_LIMIT), seen: `${rows.length} row(s)` };
  });

  // 8b. The campaign: filtered to it, the list shows only its messages, each with its priority
  // and campaign (and so does the detail); "Cancel campaign" says how many pending messages it
  // will cancel and asks first: "Keep sending" cancels nothing, confirming cancels them all.
  const campaignStats = await apiGet(config, `/api/v1/messages/stats?campaign=${encodeURIComponent(config.campaign)}`);
  if (campaignStats.pending < 1 || campaignStats.pending !== campaignStats.total) {
    fail(`the campaign ${config.campaign} must be all pending, the API says ${JSON.stringify(campaignStats)}`);
  }
  await byTestId('filter-campaign').fill(config.campaign);
  await byTestId('filter-campaign').press('Enter');
  const readCampaignRows = () =>
    page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="messages-list"] li[data-message-id]')].map((li) => ({
        id: li.dataset.messageId,
        status: li.querySelector('[data-testid="list-status"]')?.textContent.trim() ?? null,
        priority: li.querySelector('[data-testid="list-priority"]')?.textContent.trim() ?? null,
        campaign: li.querySelector('[data-testid="list-campaign"]')?.textContent.trim() ?? null,
      })),
    );
  const campaignRows = await expectSoon(`filtered to campaign ${config.campaign}, messages-list did not show its messages`, async () => {
    const rows = await readCampaignRows();
    const ok = rows.length === Math.min(campaignStats.total, LIST_LIMIT)
      && rows.every((r) => r.status === 'pending' && r.priority === 'low' && r.campaign === `#${config.campaign}`);
    return { ok, rows, seen: JSON.stringify(rows) + (ok ? '' : await pageSays()) };
  });
  await byTestId(`list-open-${campaignRows.rows[0].id}`).click({ position: { x: 8, y: 8 } });
  await expectSoon('the detail did not show the priority and the campaign', async () => {
    const seen = await page.evaluate(() => {
      const dialog = document.querySelector('[data-testid="message-detail"]');
      const read = (id) => dialog?.querySelector(`[data-testid="${id}"]`)?.textContent.trim() ?? null;
      return { visible: Boolean(dialog?.checkVisibility()), priority: read('detail-priority'), campaign: read('detail-campaign') };
    });
    const ok = seen.visible && seen.priority === 'low' && seen.campaign === config.campaign;
    return { ok, seen: JSON.stringify(seen) + (ok ? '' : await pageSays()) };
  });
  await page.keyboard.press('Escape');
  const cancelLabel = `Cancel ${campaignStats.pending} pending`;
  await expectSoon(`cancel-campaign did not read "${cancelLabel}"`, async () => {
    const seen = (await byTestId('cancel-campaign').isVisible()) ? await text('cancel-campaign') : 'hidden';
    return { ok: seen === cancelLabel, seen: `"${seen}"` };
  });
  const askFirst = async () => {
    await byTestId('cancel-campaign').click();
    await expectSoon('the confirmation did not name the count and the campaign', async () => {
      const seen = (await byTestId('confirm-cancel').isVisible()) ? await text('confirm-text') : 'hidden';
      const ok = seen.includes(`${campaignStats.pending} pending`) && seen.includes(config.campaign);
      return { ok, seen: `"${seen}"` };
    });
  };
  await askFirst();
  await byTestId('confirm-no').click();
  await sleep(300);
  const kept = await apiGet(config, `/api/v1/messages/stats?campaign=${encodeURIComponent(config.campaign)}`);
  if (kept.pending !== campaignStats.pending) fail(`"Keep sending" cancelled messages: ${JSON.stringify(kept)}`);
  await askFirst();
  await byTestId('confirm-yes').click();
  const afterCancel = {
    ...config.expected,
    pending: config.expected.pending - campaignStats.pending,
    cancelled: config.expected.cancelled + campaignStats.pending,
  };
  await expectSoon(`after confirming, the campaign's rows were not cancelled or the tiles did not show ${JSON.stringify(afterCancel)}`, async () => {
    const rows = await readCampaignRows();
    const tiles = await tilesMatch(afterCancel);
    const hidden = !(await byTestId('cancel-campaign').isVisible());
    const ok = tiles.ok && hidden && rows.length > 0 && rows.every((r) => r.status === 'cancelled');
    return { ok, seen: `${JSON.stringify(rows.map((r) => r.status))}, button ${hidden ? 'hidden' : 'shown'}, tiles ${tiles.seen}` };
  });
  const cancelledStats = await apiGet(config, `/api/v1/messages/stats?campaign=${encodeURIComponent(config.campaign)}`);
  if (cancelledStats.cancelled !== campaignStats.pending || cancelledStats.pending !== 0) {
    fail(`after confirming, the API counts the campaign ${JSON.stringify(cancelledStats)}`);
  }
  await byTestId('filter-campaign').fill('');
  await byTestId('filter-campaign').press('Enter');

  // 9. Retry the failed message: its row goes, the tiles move one from failed to pending.
  await byTestId(`retry-${config.failedId}`).click();
  const afterRetry = { ...afterCancel, failed: afterCancel.failed - 1, pending: afterCancel.pending + 1 };
  await expectSoon(`after Retry, the row did not disappear or the tiles did not show ${JSON.stringify(afterRetry)}`, async () => {
    const rows = await row.count();
    const tiles = await tilesMatch(afterRetry);
    const ok = rows === 0 && tiles.ok;
    return { ok, seen: `${rows} row(s), tiles ${tiles.seen}${ok || !tiles.ok ? '' : await pageSays()}` };
  });
  if (await detail.isVisible()) fail('clicking the Retry button opened the message detail');
  const message = await apiGet(config, `/api/v1/messages/${encodeURIComponent(config.failedId)}`);
  if (message.status !== 'pending' || message.attempts !== 0) {
    fail(`after Retry the API has the message ${message.status} with ${message.attempts} attempts, not pending with 0`);
  }

  // 10. The receiver panel shows the outage the server reports (open, with its last error and
  // the failure rate that opened it).
  const receiver = (await apiGet(config, '/api/v1/scheduler/status')).receiver;
  if (receiver.failure_rate == null) fail('the seeded outage has no failure_rate in the status');
  const rate = `${Math.round(receiver.failure_rate * 100)}% of the last ${receiver.window_results}`;
  await expectSoon(`receiver-state did not show "${receiver.state}" with "${rate}"`, async () => {
    const seen = await text('receiver-state');
    const error = await text('receiver-last-error');
    const shownRate = await text('receiver-failure-rate');
    const ok = seen === receiver.state.replace('_', '-') && error === (receiver.last_error ?? '–')
      && shownRate === rate;
    return { ok, seen: `"${seen}", last error "${error}", rate "${shownRate}"` };
  });

  // 11. Retry all: every failed message is requeued in one call; the list empties.
  await byTestId('retry-all').click();
  const afterAll = { ...afterRetry, failed: 0, pending: afterRetry.pending + afterRetry.failed };
  await expectSoon(`after Retry all, the tiles did not show ${JSON.stringify(afterAll)}`, async () => {
    const tiles = await tilesMatch(afterAll);
    const listed = await page.locator('[data-testid="failed-list"] [data-message-id]').count();
    const hidden = !(await byTestId('retry-all').isVisible());
    const ok = tiles.ok && listed === 0 && hidden;
    return { ok, seen: `${listed} row(s), button ${hidden ? 'hidden' : 'shown'}, tiles ${tiles.seen}` };
  });

  // 12. Phone width: no horizontal scrolling of the page.
  if (await byTestId('notice').isVisible()) await byTestId('notice').click();
  await page.setViewportSize({ width: 390, height: 844 });
  await expectSoon('at 390 px wide the page scrolls horizontally', async () => {
    const { scrollWidth, innerWidth } = await page.evaluate(() => ({
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
    }));
    return { ok: scrollWidth <= innerWidth, seen: `scrollWidth ${scrollWidth} > innerWidth ${innerWidth}` };
  }, 3_000);
  await page.mouse.move(0, 0);
  await page.screenshot({ path: path.join(config.screenshotDir, 'dashboard-phone.png') });

  // The console stayed clean throughout.
  if (errors.length) fail(`${errors.length} console error(s), first: ${errors[0]}`);
}

async function main() {
  const state = { browser: null };
  const watchdog = setTimeout(() => {
    console.error(`dashboard browser test failed: did not finish within ${OVERALL_TIMEOUT_MS / 1000} s`);
    const close = state.browser ? state.browser.close() : Promise.resolve();
    close.catch(() => {}).finally(() => process.exit(1));
  }, OVERALL_TIMEOUT_MS);
  let exitCode = 0;
  try {
    await run(readConfig(), state);
    console.log('dashboard browser test passed');
  } catch (error) {
    const message = error instanceof Failure ? error.message : `unexpected error: ${error?.message?.split('\n')[0] ?? error}`;
    console.error(`dashboard browser test failed: ${message}`);
    exitCode = 1;
  } finally {
    if (state.browser) await state.browser.close().catch(() => {});
    clearTimeout(watchdog);
  }
  process.exit(exitCode);
}

await main();
