/*
 * The API reference at /docs/: Swagger UI over the spec beside this page.
 * Its settings are in this file rather than in an inline script, so that
 * the page runs under nginx's CSP, which allows this origin's scripts and
 * nothing else (nginx/gatehouse.conf.in, location /docs/).
 */
'use strict';

window.ui = SwaggerUIBundle({
	// Relative to the page: /docs/openapi.yaml.  Its servers entry is "/",
	// so "try it" calls the host that served the page, whatever its name
	// and port.
	url: 'openapi.yaml',
	dom_id: '#swagger-ui',
	presets: [SwaggerUIBundle.presets.apis],
	// No top bar: it would let the page load any other spec by URL.
	layout: 'BaseLayout',
	deepLinking: true,
	filter: true,
	displayRequestDuration: true,
	// A token given once in "Authorize" goes with every "try it" that
	// needs one, and is kept in this browser (localStorage) across
	// reloads until "Logout"; an access token lives 15 minutes.
	persistAuthorization: true,
	// Swagger UI would otherwise send the spec's URL to its authors'
	// validator for a badge.
	validatorUrl: null
});
