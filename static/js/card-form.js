// Step 4: the card is confirmed by Stripe.js (a SetupIntent); our server then buys the seats.
// When the bank asks to authenticate a payment (3-D Secure), Stripe.js runs that step and the
// form is submitted again (the wizard's first payment, or added licences in the admin centre).

// Stripe's error codes, grouped by what the buyer should check; the sentences are the page's
// own (#card-messages, translated), never the service's English.
const CARD_ERROR_KINDS = {
  card_declined: "declined",
  expired_card: "expiry",
  incomplete_expiry: "expiry",
  invalid_expiry_month: "expiry",
  invalid_expiry_month_past: "expiry",
  invalid_expiry_year: "expiry",
  invalid_expiry_year_past: "expiry",
  incomplete_number: "number",
  incorrect_number: "number",
  invalid_number: "number",
  incomplete_cvc: "cvc",
  incorrect_cvc: "cvc",
  invalid_cvc: "cvc",
  processing_error: "processing",
};

// What the buyer reads for an error of Stripe.js: a network failure ("Failed to fetch") has no
// Stripe type; an invalid request without a code is localstripe's "Bad request" for card
// details it cannot read.
function cardErrorMessage(error, messages) {
  const kind = CARD_ERROR_KINDS[error.code];
  if (kind) {
    return messages[kind];
  }
  if (!error.type) {
    return messages.unreachable;
  }
  if (error.type === "invalid_request_error" || error.type === "validation_error") {
    return messages.details;
  }
  return messages.other;
}

// localstripe's stand-in for the card element hands Stripe what was typed, as typed; real
// Stripe Elements (in their own frame, with no `value`) clean the number themselves. People
// type the number as printed, in groups of four, and sometimes the year in full.
function normaliseTypedCard(card) {
  const typed = card.value && card.value.card;
  if (!typed) {
    return;
  }
  typed.number = typed.number.replace(/[\s-]/g, "");
  typed.exp_month = typed.exp_month.trim();
  typed.cvc = typed.cvc.trim();
  // The stand-in puts "20" before the two digits it expects: "2040" typed becomes "202040".
  typed.exp_year = typed.exp_year.replace(/\s/g, "").replace(/^20(20\d\d)$/, "$1");
}

// What the stand-in's fields lack, as a kind of #card-messages (null: nothing): it sends what
// it is given, and localstripe answers a bare "Bad request" for an empty or short field.
function typedCardProblem(card) {
  const inputs = card._inputs;
  if (!inputs) {
    return null;
  }
  if (["number", "exp_month", "exp_year", "cvc"].some((f) => inputs[f].value.trim() === "")) {
    return "incomplete";
  }
  if (!/^\d{13,19}$/.test(card.value.card.number)) {
    return "number";
  }
  return null;
}

document.addEventListener("DOMContentLoaded", () => {
  const authenticateForm = document.getElementById("authenticate-form");
  if (authenticateForm && typeof Stripe !== "undefined") {
    const stripe = Stripe(authenticateForm.dataset.publishableKey);
    const errors = document.getElementById("authenticate-errors");
    const button = authenticateForm.querySelector("button[type=submit]");
    authenticateForm.addEventListener("submit", async (event) => {
      if (authenticateForm.dataset.authenticated === "true") {
        return;
      }
      event.preventDefault();
      button.disabled = true;
      errors.textContent = "";
      const result = await stripe.confirmCardPayment(authenticateForm.dataset.paymentSecret);
      if (result.error) {
        errors.textContent = result.error.message || "";
        button.disabled = false;
        return;
      }
      authenticateForm.dataset.authenticated = "true";
      authenticateForm.submit();
    });
  }

  const form = document.getElementById("purchase-form");
  if (!form) {
    return;
  }
  const errors = document.getElementById("card-errors");
  const button = form.querySelector("button[type=submit]");
  const messages = JSON.parse(document.getElementById("card-messages").textContent);
  if (typeof Stripe === "undefined") {
    // Stripe.js did not load: the payment service is out of reach, and the form cannot work.
    errors.textContent = messages.unreachable;
    button.disabled = true;
    return;
  }
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");

  form.addEventListener("submit", async (event) => {
    if (form.dataset.cardConfirmed === "true") {
      return;
    }
    event.preventDefault();
    errors.textContent = "";
    normaliseTypedCard(card);
    const problem = typedCardProblem(card);
    if (problem) {
      errors.textContent = messages[problem];
      return;
    }
    button.disabled = true;
    const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: { card, billing_details: { name: form.dataset.buyerName } },
    });
    if (result.error) {
      errors.textContent = cardErrorMessage(result.error, messages);
      button.disabled = false;
      return;
    }
    form.elements.setup_intent.value = result.setupIntent.id;
    form.dataset.cardConfirmed = "true";
    form.submit();
  });

  // The total follows the plan chosen.
  form.querySelectorAll("input[name=plan]").forEach((radio) => {
    radio.addEventListener("change", () => {
      document.getElementById("purchase-total").textContent = radio.dataset.total;
    });
  });
});
