//! Target values as pages show them.

use crate::shell::i18n::Lang;

pub fn show_milli(m: danvan_domain::value::Milli) -> String {
    danvan_domain::scheme::format_number(m.as_f64())
}

/// A value as people read it: "8/10", "2", "Có", "Khá"; empty when there is none.
pub(crate) fn show_value(
    lang: Lang,
    t: &danvan_domain::scheme::Target,
    value: Option<&danvan_domain::value::Value>,
) -> String {
    use danvan_domain::value::Value;
    match value {
        Some(Value::Ratio { numerator, denominator }) => {
            format!("{}/{}", show_milli(*numerator), show_milli(*denominator))
        }
        Some(Value::Count { count }) => show_milli(*count),
        Some(Value::YesNo { yes }) => lang.t(if *yes { "yes" } else { "no" }),
        Some(Value::Level { grade }) => t.grades.get(*grade).cloned().unwrap_or_default(),
        None => String::new(),
    }
}
