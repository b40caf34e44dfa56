/** Debian's Chromium driven by playwright-core, for the dashboard's browser tests and screenshots. */
import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Where Debian installs Chromium (CI: `apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Launches headless Chromium with the flags that keep it quiet and offline. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/** Signs in through the page's form and waits for the dashboard. */
export async function signInPage(
  page: Page,
  dashboard: string,
  name: string,
  password: string,
): Promise<void> {
  await page.goto(`${dashboard}/`);
  await page.getByLabel('User name', { exact: true }).fill(name);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await Promise.all([
    page.waitForURL(`${dashboard}/**`),
    page.getByRole('button', { name: 'Sign in', exact: true }).click(),
  ]);
}
