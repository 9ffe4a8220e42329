//! `payrun listen` and the webhook receiver: signed callbacks from the real simulator settle a
//! real run; deliveries twice, out of order, badly signed, malformed, oversized or unknown
//! change exactly what they should; the binary starts, refuses and stops as documented.

mod attention;
mod binary;
mod deliveries;
mod end_to_end;
mod refusals;
mod slow_clients;
