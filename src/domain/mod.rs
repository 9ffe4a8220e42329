//! Domain newtypes. Every value that crosses the boundary (CSV cell, CLI flag, limits file) is
//! parsed here into a type whose invariants hold for its whole life, so the core never sees an
//! invalid phone, a float amount or an unknown currency.

mod amount;
mod country;
mod currency;
mod limits;
mod operator;
mod payee;
mod payout;
mod phone;
mod provider;
mod row_state;
mod run_end;
mod shown;
mod trim;

pub use amount::{AmountError, AmountUnit, MinorUnits, Money, MoneyError, format_major, grouped};
pub use country::Country;
pub use currency::{Currency, CurrencyError};
pub use limits::{Limits, LimitsError};
pub use operator::{Operator, OperatorError};
pub use payee::PayeeRow;
pub use payout::{PayoutRefs, PayoutStatus};
pub use phone::{Phone, PhoneError};
pub use provider::ProviderKind;
pub use row_state::RowState;
pub use run_end::RunEnd;
pub use shown::{CodePoint, Escaped, PREVIEW_CHARS, Quoted, ShownChar, is_invisible, preview};
pub use trim::trim;
