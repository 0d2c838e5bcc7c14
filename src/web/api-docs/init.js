// Renders /openapi.json with Swagger UI, from Rescue's own origin: no CDN, no inline script (the
// page's CSP allows none), and no call to swagger.io's validator.
window.addEventListener('load', () => {
  window.ui = window.SwaggerUIBundle({
    url: '/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    validatorUrl: null,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: 'BaseLayout',
  });
});
