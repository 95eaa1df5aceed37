/// A ready-to-send cookie: the parts, and the complete `Set-Cookie` header value.
public struct SetCookie: Sendable, Equatable {
  public var name: String
  public var value: String
  public var path: String
  public var domain: String
  public var expiresAtMs: Int64
  public var httpOnly: Bool
  public var secure: Bool
  public var sameSite: String
  public var header: String
}

/// Builds SuperTokens' cookies: `sAccessToken` on path `/`, `sRefreshToken` on the refresh API's path.
/// The access-token cookie lives as long as the session so that an expired access token still reaches
/// the backend, which answers "try refresh token".
public struct CookieFactory: Sendable {
  public var domain: String
  public var secure: Bool
  public var renewTokenPath: String

  public init(domain: String, secure: Bool, renewTokenPath: String) {
    self.domain = domain
    self.secure = secure
    self.renewTokenPath = renewTokenPath
  }

  public func accessTokenCookie(_ token: String, expiresAtMs: Int64) -> SetCookie {
    cookie(name: "sAccessToken", value: token, path: "/", expiresAtMs: expiresAtMs)
  }

  public func refreshTokenCookie(_ token: String, expiresAtMs: Int64) -> SetCookie {
    cookie(name: "sRefreshToken", value: token, path: renewTokenPath, expiresAtMs: expiresAtMs)
  }

  private func cookie(name: String, value: String, path: String, expiresAtMs: Int64) -> SetCookie {
    var header = "\(name)=\(value); Path=\(path)"
    if !domain.isEmpty { header += "; Domain=\(domain)" }
    header += "; Expires=\(HTTPDate.format(epochMs: expiresAtMs)); HttpOnly"
    if secure { header += "; Secure" }
    header += "; SameSite=Lax"
    return SetCookie(
      name: name, value: value, path: path, domain: domain, expiresAtMs: expiresAtMs, httpOnly: true, secure: secure,
      sameSite: "Lax", header: header)
  }
}

/// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.
public enum HTTPDate {
  private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
  private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

  public static func format(epochMs: Int64) -> String {
    let seconds = epochMs >= 0 ? epochMs / 1000 : (epochMs - 999) / 1000
    let dayNumber = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
    let secondOfDay = seconds - dayNumber * 86400
    let (year, month, day) = civil(fromDays: dayNumber)
    let weekday = days[Int(((dayNumber % 7) + 7) % 7)]
    return "\(weekday), \(two(day)) \(months[Int(month) - 1]) \(year) \(two(secondOfDay / 3600)):"
      + "\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
  }

  private static func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }

  /// Howard Hinnant's days-to-civil algorithm.
  private static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
    let z = z0 + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
  }
}
