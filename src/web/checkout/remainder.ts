import { parseAmount } from '../../core/money.ts';
import { paymentUri } from '../../invoices/payment-uri.ts';
import type { InvoiceJson } from '../../invoices/serialize.ts';

type OptionJson = InvoiceJson['payment_options'][number];

/**
 * What the payer should send now. Normally the option's amount and URI. After an underpayment
 * (customer status issue_detected with a shortfall on the option that was paid), the QR code,
 * wallet link and copy button ask for the remainder only: scanning the original code again would
 * make the customer pay the full amount twice.
 */
export function amountToSend(
  invoice: InvoiceJson,
  option: OptionJson,
): { amount: string; uri: string | null; remainder: boolean } {
  const underpaid =
    invoice.customer_status === 'issue_detected' &&
    invoice.shortfall !== '0' &&
    invoice.selected_option_id === option.id;
  if (!underpaid) return { amount: option.amount_due, uri: option.payment_uri, remainder: false };
  const shortfall = parseAmount(invoice.shortfall, option.decimals, 'shortfall');
  // Same address, network, asset and label as the option's own URI (the invoice id), smaller amount.
  const uri = paymentUri(
    {
      id: option.id,
      asset: option.asset,
      network: option.network,
      address: option.address,
      derivationIndex: 0,
      walletId: '',
      amountDue: shortfall,
      decimals: option.decimals,
      requiredConfirmations: option.required_confirmations,
      zeroConfAllowed: option.zero_conf_allowed,
      confirmationReason: option.confirmation_reason,
      rate: null,
    },
    invoice.id,
  );
  return { amount: invoice.shortfall, uri, remainder: true };
}
