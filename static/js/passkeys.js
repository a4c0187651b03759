// After django-otp-webauthn's register script saved a passkey, go where the server says (the
// confirmation page with the first backup codes, or the two-step sign-in page). Loaded as a
// module from our own origin (no inline script under the Content-Security-Policy).
document.addEventListener("otp_webauthn.register_complete", (event) => {
  const target = event.detail && event.detail.response && event.detail.response.redirect_url;
  if (typeof target === "string" && target.startsWith("/")) {
    window.location.assign(target);
  }
});
