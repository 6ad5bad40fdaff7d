// The web console end to end in a real browser (Debian's Chromium, driven by playwright-core):
// an admin logs in, finds a device a simulated device just enrolled (it appears live), sends it
// DeviceInformation from the schema-driven form and watches the result appear without a reload,
// cancels a queued command and finds it in the audit log; a viewer cannot send; a request without
// the CSRF token is refused. Screenshots of the main pages go to test-results/console/.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startAspen, type TestServer } from '../helpers/aspen-server.ts';
import { browserSkipReason, launchBrowser, type Browser } from '../helpers/browser.ts';
import { SimulatedDevice } from '../helpers/simulated-device.ts';

const NASTY = '<img src=x onerror=alert(1)><script>alert("owned")</script>';

describe('web console in a browser', { skip: browserSkipReason() }, () => {
  let server: TestServer;
  let browser: Browser;
  let device: SimulatedDevice;

  before(async () => {
    server = await startAspen();
    await server.aspen.accounts.add('ada', 'admin', 'ada-password-123');
    await server.aspen.accounts.add('victor', 'viewer', 'victor-password-123');
    browser = await launchBrowser();
    device = new SimulatedDevice(server, 'BROWSER-UDID-1', { SerialNumber: 'F17BROWSER1', DeviceName: NASTY, OSVersion: '17.4', ModelName: 'iPhone' });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('runs the fleet: log in, see a device enroll live, send DeviceInformation, watch its result, cancel, audit', async () => {
    const { page } = browser;
    await page.goto(`${server.url}/ui`);
    assert.match(page.url(), /\/ui\/login$/);
    await browser.screenshot(page, 'login');
    await page.getByLabel('Account').fill('ada');
    await page.getByLabel('Password').fill('ada-password-123');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();

    // Keyboard: the first Tab reaches the skip link, the next the navigation.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Overview');

    // The feed is connected; the device enrolls and shows up without a reload.
    await page.locator('html[data-live="open"]').waitFor({ state: 'attached' });
    await device.enroll();
    await page.locator('[data-live-feed] li', { hasText: 'F17BROWSER1' }).first().waitFor();
    await page.reload();
    await browser.screenshot(page, 'overview');

    await page.getByRole('link', { name: 'Devices' }).click();
    await page.getByLabel('Serial, name or id').fill('f17browser');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: device.udid }).click();
    await page.getByRole('heading', { name: 'F17BROWSER1' }).waitFor();

    await page.getByRole('link', { name: 'Send a command' }).click();
    // Choosing the RequestType shows its fields at once (the script submits the picker).
    await page.getByLabel('RequestType').selectOption('DeviceInformation');
    await page.getByRole('group', { name: /Queries/ }).waitFor();
    await page.getByLabel('DeviceName', { exact: true }).check();
    await page.getByLabel('SerialNumber', { exact: true }).check();
    await browser.screenshot(page, 'send-command');
    await page.getByRole('button', { name: 'Send DeviceInformation' }).click();
    await page.getByRole('heading', { name: 'Command sent' }).waitFor();
    await page.getByRole('link', { name: 'Watch its results' }).click();
    await page.locator('[data-targets] .state-queued').waitFor();

    // The device answers; the page shows the result without a reload, the name as text.
    await page.locator('html[data-live="open"]').waitFor({ state: 'attached' });
    await device.answerAll();
    await page.locator('[data-targets] .state-acknowledged').waitFor();
    await page.locator('[data-targets] summary', { hasText: 'Result' }).click();
    await page.locator('[data-targets] pre', { hasText: 'DeviceName' }).first().waitFor();
    await browser.screenshot(page, 'command');

    await page.goto(`${server.url}/ui/devices/${device.udid}`);
    await page.getByRole('heading', { name: NASTY }).waitFor();

    // Queue a command the device does not fetch yet, and cancel it from the device page.
    await page.goto(`${server.url}/ui/send?target=${device.udid}&request_type=ProfileList`);
    await page.getByRole('button', { name: 'Send ProfileList' }).click();
    await page.getByRole('heading', { name: 'Command sent' }).waitFor();
    await page.goto(`${server.url}/ui/devices/${device.udid}`);
    await browser.screenshot(page, 'device');
    await page.getByRole('button', { name: /^Cancel ProfileList/ }).click();
    await page.getByText('Command cancelled.').waitFor();
    assert.equal((await server.aspen.storage.listQueue(device.udid))?.length, 0);

    await page.getByRole('link', { name: 'Audit' }).click();
    await page.locator('table.audit tr', { hasText: `DELETE /v1/enrollments/${device.udid}/queue/` }).waitFor();
    await browser.screenshot(page, 'audit');
    await page.getByRole('link', { name: 'Commands' }).click();
    await browser.screenshot(page, 'commands');
    await page.getByRole('link', { name: 'Devices' }).click();
    await page.setViewportSize({ width: 390, height: 844 });
    await browser.screenshot(page, 'devices-phone');
    // Nothing is wider than a phone's screen but the tables, which scroll in their own box.
    assert.ok(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1'));
    await page.setViewportSize({ width: 1280, height: 900 });
    await browser.screenshot(page, 'devices');

    assert.deepEqual(browser.problems, [], 'no CSP violation, script error or dialog');
    // A form posted without its CSRF token is refused, and queues nothing.
    const status = await page.evaluate(async (udid) => {
      const body = new URLSearchParams({ target: udid, request_type: 'DeviceInformation', 'k.Queries': 'DeviceName' });
      return (await fetch('/ui/send', { method: 'POST', body })).status;
    }, device.udid);
    assert.equal(status, 403);
    assert.equal((await server.aspen.storage.listQueue(device.udid))?.length, 0);

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Aspen' }).waitFor();
  });

  it('does not let a viewer send a command', async () => {
    const { page } = browser;
    await browser.context.clearCookies();
    await page.goto(`${server.url}/ui/login`);
    await page.getByLabel('Account').fill('victor');
    await page.getByLabel('Password').fill('victor-password-123');
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Overview' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Audit' }).count(), 0, 'no audit link for a viewer');
    await page.goto(`${server.url}/ui/send?target=${device.udid}&request_type=DeviceInformation`);
    await page.getByText('can look, not send').waitFor();
    await page.getByLabel('DeviceName', { exact: true }).check();
    await page.getByRole('button', { name: 'Send DeviceInformation' }).click();
    await page.getByText(/Refused: the viewer role may not do this/).waitFor();
    assert.equal((await server.aspen.storage.listQueue(device.udid))?.length, 0);
    await browser.screenshot(page, 'viewer-refused');
  });
});
