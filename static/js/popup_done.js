// The popup's last page: tell the CRM Admin page (our own origin only) that the attempt has an
// outcome, then close. The opener re-reads the outcome from the server; this message carries no secret.
// If the opener is gone, the page stays open and shows the outcome with a link back.

const MESSAGE_TYPE = "vcc-crm-admin:salesforce-link";
const done = document.getElementById("attempt-done");

if (done && window.opener && !window.opener.closed) {
  const payload = { type: MESSAGE_TYPE, flow_id: done.dataset.flowId, status: done.dataset.status };
  try {
    window.opener.postMessage(payload, window.location.origin);
  } catch {
    // The opener navigated elsewhere; the page below still says what happened.
  }
  window.close();
}
