//! `calculator`: evaluates an arithmetic expression, numerically.
//!
//! Python: `strands_tools.calculator` (SymPy). The name, the `expression` argument and the
//! `Result: 4` text are the same; this one evaluates in 64-bit floating point and has no
//! symbolic modes (solve, derive, integrate...): it answers those with an error that says so.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::tool;

/// The longest expression accepted, in bytes.
const MAX_EXPRESSION_BYTES: usize = 10_000;
/// The deepest nesting of parentheses, powers and signs accepted.
const MAX_DEPTH: usize = 200;
/// The most decimals a result shows.
const MAX_PRECISION: usize = 17;

/// Evaluates a mathematical expression: numbers, `+ - * / %`, powers (`^` or `**`), `!`,
/// parentheses, implicit multiplication (`2pi`, `3(4+1)`), the constants `pi` and `e`, and the
/// functions sqrt, cbrt, exp, ln, log (natural, or `log(x, base)`), log10, log2, sin, cos, tan,
/// asin, acos, atan, sinh, cosh, tanh, abs, floor, ceiling, round, factorial, min, max.
///
/// # Arguments
/// * `expression` - the expression to evaluate, such as `2 + 2` or `sqrt(2) * 3^2`
/// * `mode` - only `evaluate` (the default) is supported
/// * `precision` - decimals shown for results that are not integers (default 10)
/// * `variables` - values of the variables used in the expression, such as {"x": 2}
#[tool]
#[allow(
    clippy::needless_pass_by_value,
    reason = "a tool's arguments are owned"
)]
pub fn calculator(
    expression: String,
    mode: Option<String>,
    precision: Option<u32>,
    variables: Option<HashMap<String, f64>>,
) -> Result<String, String> {
    if let Some(mode) = mode.filter(|m| m != "evaluate") {
        return Err(format!(
            "mode {mode:?} is not supported; this calculator evaluates numerically (mode \"evaluate\")"
        ));
    }
    let value = evaluate(&expression, &variables.unwrap_or_default())
        .map_err(|error| format!("Invalid mathematical expression: {error}"))?;
    let precision = precision.map_or(10, |p| (p as usize).min(MAX_PRECISION));
    Ok(format!("Result: {}", format_number(value, precision)))
}

/// The value of `expression` with `variables`.
///
/// # Errors
///
/// A syntax error, an unknown name, a result that is not a finite number, or an expression over
/// the size or depth bounds, described for the model.
fn evaluate(expression: &str, variables: &HashMap<String, f64>) -> Result<f64, String> {
    if expression.len() > MAX_EXPRESSION_BYTES {
        return Err(format!("longer than {MAX_EXPRESSION_BYTES} bytes"));
    }
    let mut parser = Parser {
        tokens: tokenize(expression)?,
        position: 0,
        depth: 0,
        variables,
    };
    let value = parser.expression()?;
    if let Some(token) = parser.tokens.get(parser.position) {
        return Err(format!("unexpected {token}"));
    }
    if value.is_finite() {
        Ok(value)
    } else if value.is_nan() {
        Err("the result is undefined".to_owned())
    } else {
        Err("the result is infinite (division by zero?)".to_owned())
    }
}

/// Integers bare; others with `precision` decimals, trailing zeros cut; very large or small
/// values in scientific notation (Python's calculator output).
fn format_number(value: f64, precision: usize) -> String {
    let magnitude = value.abs();
    if value.fract() == 0.0 && magnitude < 1e15 {
        return format!("{value:.0}");
    }
    if magnitude >= 1e21 || (magnitude < 1e-6 && magnitude > 0.0) {
        let text = format!("{value:.precision$e}");
        let (mantissa, exponent) = text.split_once('e').unwrap_or((&text, "0"));
        let mantissa = trim_zeros(mantissa);
        let mut out = String::with_capacity(text.len());
        let _ = write!(out, "{mantissa}e{exponent}");
        return out;
    }
    trim_zeros(&format!("{value:.precision$}")).to_owned()
}

fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Name(String),
    Op(char),
    Power,
    Open,
    Close,
    Comma,
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Number(n) => write!(f, "number {n}"),
            Self::Name(name) => write!(f, "name {name:?}"),
            Self::Op(op) => write!(f, "'{op}'"),
            Self::Power => f.write_str("'^'"),
            Self::Open => f.write_str("'('"),
            Self::Close => f.write_str("')'"),
            Self::Comma => f.write_str("','"),
        }
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let token = match c {
            c if c.is_whitespace() => continue,
            '0'..='9' | '.' => {
                let mut end = start + c.len_utf8();
                let mut previous = c;
                while let Some(&(i, next)) = chars.peek() {
                    let exponent_sign = matches!(next, '+' | '-') && matches!(previous, 'e' | 'E');
                    if !(next.is_ascii_digit() || matches!(next, '.' | 'e' | 'E') || exponent_sign)
                    {
                        break;
                    }
                    // `2e` followed by a letter other than a digit or sign is 2*e.
                    if matches!(next, 'e' | 'E') {
                        let after = text[i + 1..].chars().next();
                        if !after.is_some_and(|a| a.is_ascii_digit() || a == '+' || a == '-') {
                            break;
                        }
                    }
                    previous = next;
                    end = i + next.len_utf8();
                    chars.next();
                }
                let literal = &text[start..end];
                Token::Number(
                    literal
                        .parse()
                        .map_err(|_| format!("{literal:?} is not a number"))?,
                )
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut name = String::from(c);
                while let Some(&(_, next)) = chars.peek() {
                    if !(next.is_alphanumeric() || next == '_') {
                        break;
                    }
                    name.push(next);
                    chars.next();
                }
                Token::Name(name)
            }
            '*' if chars.peek().is_some_and(|&(_, n)| n == '*') => {
                chars.next();
                Token::Power
            }
            '^' => Token::Power,
            '+' | '-' | '*' | '/' | '%' | '!' => Token::Op(c),
            '(' | '[' => Token::Open,
            ')' | ']' => Token::Close,
            ',' => Token::Comma,
            other => return Err(format!("unexpected character {other:?}")),
        };
        tokens.push(token);
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<Token>,
    position: usize,
    depth: usize,
    variables: &'a HashMap<String, f64>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.position)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.position).cloned();
        self.position += 1;
        token
    }

    fn descend(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!("nested deeper than {MAX_DEPTH} levels"));
        }
        Ok(())
    }

    /// `term (('+' | '-') term)*`
    fn expression(&mut self) -> Result<f64, String> {
        let mut value = self.term()?;
        while let Some(Token::Op(op @ ('+' | '-'))) = self.peek().cloned() {
            self.position += 1;
            let right = self.term()?;
            value = if op == '+' {
                value + right
            } else {
                value - right
            };
        }
        Ok(value)
    }

    /// `unary (('*' | '/' | '%' | implicit) unary)*`
    fn term(&mut self) -> Result<f64, String> {
        let mut value = self.unary()?;
        loop {
            let op = match self.peek() {
                Some(Token::Op(op @ ('*' | '/' | '%'))) => {
                    let op = *op;
                    self.position += 1;
                    op
                }
                // Implicit multiplication: `2pi`, `3(4 + 1)`, `(1 + 2)(3)`.
                Some(Token::Number(_) | Token::Name(_) | Token::Open) => '*',
                _ => return Ok(value),
            };
            let right = self.unary()?;
            value = match op {
                '*' => value * right,
                '/' => value / right,
                _ => value % right,
            };
        }
    }

    /// `('+' | '-') unary | power`
    fn unary(&mut self) -> Result<f64, String> {
        self.descend()?;
        let value = match self.peek() {
            Some(Token::Op('-')) => {
                self.position += 1;
                -self.unary()?
            }
            Some(Token::Op('+')) => {
                self.position += 1;
                self.unary()?
            }
            _ => self.power()?,
        };
        self.depth -= 1;
        Ok(value)
    }

    /// `postfix ('^' unary)?`, right-associative.
    fn power(&mut self) -> Result<f64, String> {
        let base = self.postfix()?;
        if self.peek() == Some(&Token::Power) {
            self.position += 1;
            let exponent = self.unary()?;
            return Ok(base.powf(exponent));
        }
        Ok(base)
    }

    /// `primary '!'*`
    fn postfix(&mut self) -> Result<f64, String> {
        let mut value = self.primary()?;
        while self.peek() == Some(&Token::Op('!')) {
            self.position += 1;
            value = factorial(value)?;
        }
        Ok(value)
    }

    fn primary(&mut self) -> Result<f64, String> {
        match self.next() {
            Some(Token::Number(value)) => Ok(value),
            Some(Token::Open) => {
                self.descend()?;
                let value = self.expression()?;
                self.depth -= 1;
                match self.next() {
                    Some(Token::Close) => Ok(value),
                    _ => Err("a '(' is not closed".to_owned()),
                }
            }
            Some(Token::Name(name)) if self.peek() == Some(&Token::Open) => {
                self.position += 1;
                let arguments = self.arguments()?;
                call(&name, &arguments)
            }
            Some(Token::Name(name)) => self.name(&name),
            Some(token) => Err(format!("unexpected {token}")),
            None => Err("the expression ends too early".to_owned()),
        }
    }

    /// The arguments of a call, after its `(`.
    fn arguments(&mut self) -> Result<Vec<f64>, String> {
        self.descend()?;
        let mut arguments = vec![self.expression()?];
        loop {
            match self.next() {
                Some(Token::Comma) => arguments.push(self.expression()?),
                Some(Token::Close) => break,
                _ => return Err("a function call is not closed".to_owned()),
            }
        }
        self.depth -= 1;
        Ok(arguments)
    }

    fn name(&self, name: &str) -> Result<f64, String> {
        if let Some(value) = self.variables.get(name) {
            return Ok(*value);
        }
        match name {
            "pi" | "PI" | "Pi" => Ok(std::f64::consts::PI),
            "e" | "E" => Ok(std::f64::consts::E),
            "oo" | "inf" => Ok(f64::INFINITY),
            _ => Err(format!(
                "unknown name {name:?}; pass its value in `variables`"
            )),
        }
    }
}

fn factorial(value: f64) -> Result<f64, String> {
    if value < 0.0 || value.fract() != 0.0 {
        return Err(format!("factorial of {value} is not defined here"));
    }
    if value > 170.0 {
        return Err("factorial too large".to_owned());
    }
    // At most 170 factors: bounded by the check above.
    Ok((1..=value as u32).map(f64::from).product())
}

fn call(name: &str, arguments: &[f64]) -> Result<f64, String> {
    let one = |f: fn(f64) -> f64| match arguments {
        [x] => Ok(f(*x)),
        _ => Err(format!(
            "{name} takes one argument, got {}",
            arguments.len()
        )),
    };
    match name.to_ascii_lowercase().as_str() {
        "sqrt" => one(f64::sqrt),
        "cbrt" => one(f64::cbrt),
        "exp" => one(f64::exp),
        "ln" => one(f64::ln),
        "log" => match arguments {
            [x] => Ok(x.ln()),
            [x, base] => Ok(x.ln() / base.ln()),
            _ => Err(format!(
                "log takes one or two arguments, got {}",
                arguments.len()
            )),
        },
        "log10" => one(f64::log10),
        "log2" => one(f64::log2),
        "sin" => one(f64::sin),
        "cos" => one(f64::cos),
        "tan" => one(f64::tan),
        "asin" => one(f64::asin),
        "acos" => one(f64::acos),
        "atan" => one(f64::atan),
        "sinh" => one(f64::sinh),
        "cosh" => one(f64::cosh),
        "tanh" => one(f64::tanh),
        "abs" => one(f64::abs),
        "floor" => one(f64::floor),
        "ceiling" | "ceil" => one(f64::ceil),
        "round" => one(f64::round),
        "factorial" => match arguments {
            [x] => factorial(*x),
            _ => Err(format!(
                "factorial takes one argument, got {}",
                arguments.len()
            )),
        },
        "min" => Ok(arguments.iter().copied().fold(f64::INFINITY, f64::min)),
        "max" => Ok(arguments.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        _ => Err(format!("unknown function {name:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(expression: &str) -> String {
        match calculator::call(expression.to_owned(), None, None, None) {
            Ok(text) | Err(text) => text,
        }
    }

    #[test]
    fn results_read_like_pythons_calculator() {
        assert_eq!(text("2 + 2"), "Result: 4");
        assert_eq!(text("10/4"), "Result: 2.5");
        assert_eq!(text("1/3"), "Result: 0.3333333333");
        assert_eq!(text("2^10"), "Result: 1024");
        assert_eq!(text("2**3**2"), "Result: 512");
        assert_eq!(text("-2^2"), "Result: -4");
        assert_eq!(text("sqrt(16) + 5!"), "Result: 124");
        assert_eq!(text("2pi"), "Result: 6.2831853072");
        assert_eq!(text("3(4 + 1)"), "Result: 15");
        assert_eq!(text("log(8, 2)"), "Result: 3");
        assert_eq!(text("1e22 * 3"), "Result: 3e22");
        assert_eq!(text("1.5e-7"), "Result: 1.5e-7");
        assert_eq!(text("max(1, 7, 3) % 4"), "Result: 3");
    }

    #[test]
    fn variables_precision_and_modes() {
        let vars = HashMap::from([("x".to_owned(), 2.0)]);
        assert_eq!(
            calculator::call("x^2 + 2x".to_owned(), None, Some(2), Some(vars)),
            Ok("Result: 8".to_owned())
        );
        assert_eq!(
            calculator::call("1/3".to_owned(), Some("evaluate".to_owned()), Some(3), None),
            Ok("Result: 0.333".to_owned())
        );
        assert!(
            calculator::call("x".to_owned(), Some("solve".to_owned()), None, None)
                .is_err_and(|e| e.contains("not supported"))
        );
    }

    #[test]
    fn bad_expressions_say_what_is_wrong() {
        assert_eq!(
            text("2 +"),
            "Invalid mathematical expression: the expression ends too early"
        );
        assert!(text("1/0").contains("infinite"));
        assert!(text("foo + 1").contains("unknown name \"foo\""));
        assert!(text("nope(1)").contains("unknown function"));
        assert!(text("(1 + 2").contains("not closed"));
        assert!(text("2 $ 3").contains("unexpected character '$'"));
        assert!(text("171!").contains("too large"));
    }

    #[test]
    fn size_and_depth_are_bounded() {
        assert!(text(&"(".repeat(5_000)).contains("nested deeper"));
        assert!(text(&"-".repeat(5_000)).contains("nested deeper"));
        assert!(text(&"1+".repeat(6_000)).contains("longer than"));
    }
}
