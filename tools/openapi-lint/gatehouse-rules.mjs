// gatehouse's own rules for docs/openapi.yaml, as a Redocly plugin
// (redocly.yaml beside this file turns them on).

const OAUTH_ERROR = '#/components/schemas/OAuthError';

// problem-json-4xx: every 4xx is RFC 9457 problem+json, as gatehouse
// answers it (lib/gh_req.c, gh_problem), with two exceptions that other
// standards fix: an OAuth endpoint's error is RFC 6749's own JSON (the
// OAuthError schema, and nothing else), and the provider's pages for a
// browser answer HTML.  A 4xx with no content at all is refused too: the
// reader of the spec must learn what the body is.
function problemJson4xx() {
	return {
		Response: {
			skip(_response, key) {
				return !/^4[0-9X]{2}$/.test(String(key));
			},
			enter(response, ctx) {
				const content = response.content ?? {};
				const types = Object.keys(content);
				if (types.includes('application/problem+json'))
					return;
				if (types.length > 0 &&
				    types.every((t) => t === 'text/html'))
					return;
				if (types.length === 1 &&
				    types[0] === 'application/json' &&
				    content[types[0]].schema?.$ref === OAUTH_ERROR)
					return;
				ctx.report({
					message: types.length === 0 ?
					    'A 4xx response must say what its body is: application/problem+json, or the OAuthError schema, or text/html.' :
					    `A 4xx response is application/problem+json (or the OAuthError schema, or text/html), not ${types.join(', ')}.`,
					location: ctx.location.key(),
				});
			},
		},
	};
}

export default function gatehouse() {
	return {
		id: 'gatehouse',
		rules: {
			oas3: {
				'problem-json-4xx': problemJson4xx,
			},
		},
	};
}
