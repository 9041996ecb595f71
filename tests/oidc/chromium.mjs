// Debian's Chromium, launched the one way every browser test here does:
// headless, the system's binary (playwright-core downloads none), and
// without the sandbox only as root, where Chromium refuses to start with
// it.  The caller hands in playwright-core's `chromium` (this module
// imports nothing, so tests/console, with packages of its own, shares it).
// GH_CHROMIUM names another binary; so does the variable the caller names,
// the one each script read before.
export function launch(chromium, variable) {
	return chromium.launch({
		executablePath: (variable && process.env[variable]) ||
		    process.env.GH_CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
	});
}
