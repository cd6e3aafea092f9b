// Swagger UI from the vendored bundle; kept out of the page so the CSP can forbid inline scripts.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({ url: el.getAttribute("data-spec"), dom_id: "#swagger-ui" });
});
