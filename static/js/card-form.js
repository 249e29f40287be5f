// Step 4: the card is confirmed by Stripe.js (a SetupIntent); our server then buys the seats.
// When the bank asks to authenticate a payment (3-D Secure), Stripe.js runs that step and the
// form is submitted again (the wizard's first payment, or added licences in the admin centre).
document.addEventListener("DOMContentLoaded", () => {
  if (typeof Stripe === "undefined") {
    return;
  }
  const authenticateForm = document.getElementById("authenticate-form");
  if (authenticateForm) {
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
  const stripe = Stripe(form.dataset.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const errors = document.getElementById("card-errors");
  const button = form.querySelector("button[type=submit]");

  form.addEventListener("submit", async (event) => {
    if (form.dataset.cardConfirmed === "true") {
      return;
    }
    event.preventDefault();
    button.disabled = true;
    errors.textContent = "";
    const result = await stripe.confirmCardSetup(form.dataset.clientSecret, {
      payment_method: { card, billing_details: { name: form.dataset.buyerName } },
    });
    if (result.error) {
      errors.textContent = (result.error.message || form.dataset.cardError);
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
