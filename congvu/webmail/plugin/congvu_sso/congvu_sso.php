<?php

/**
 * congvu_sso: Roundcube as a client of congvu's OpenID Connect provider.
 *
 * Roundcube 1.6 signs in with OAuth (config `oauth_*`, rendered by `congvu webmail up`)
 * but knows nothing of OpenID Connect logout. This plugin adds:
 *
 *  - Password sign-in switched off: the login form never authenticates, and an
 *    unauthenticated page goes to the provider's sign-in, so the password is typed only
 *    at congvu.
 *  - RP-initiated logout: after Roundcube's own logout the browser goes to the provider's
 *    end-session endpoint with `id_token_hint`, so signing out of webmail signs out of
 *    the province's SSO session (every other client hears of it by back-channel).
 *  - Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider POSTs a
 *    signed `logout_token` to `?_task=login&_action=congvu-backchannel-logout`; the
 *    plugin checks its RS256 signature against the provider's JWKS and its claims, then
 *    destroys the Roundcube sessions of that `sid` (or of that `sub`).
 *  - Defence in depth: every request of a session whose SSO session ended is logged out,
 *    and at most every `congvu_sso_check_interval` seconds the access token is shown to
 *    the provider's userinfo endpoint; a 401 ends the Roundcube session.
 *
 * The `sid` → Roundcube session mapping lives in the table `congvu_sso_sessions` of
 * Roundcube's own database (created by `congvu webmail up`).
 *
 * Config keys (all written by `congvu webmail up`): congvu_sso_issuer,
 * congvu_sso_jwks_uri, congvu_sso_end_session_uri, congvu_sso_post_logout_redirect_uri,
 * congvu_sso_userinfo_uri, congvu_sso_check_interval, congvu_sso_logout_token_max_age.
 */
class congvu_sso extends rcube_plugin
{
    const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
    const TABLE = 'congvu_sso_sessions';
    const ACTION = 'congvu-backchannel-logout';

    /** @var rcmail */
    private $rc;

    /** @var array|null sid/sub/id_token between the `oauth_login` and `login_after` hooks */
    private $pending = null;

    /** @var array|null the SSO data of a session being logged out */
    private $leaving = null;

    /** @var bool a sign-in just failed: do not send the browser straight back */
    private $failed = false;

    public function init()
    {
        $this->rc = rcmail::get_instance();
        $this->add_hook('startup', [$this, 'startup']);
        $this->add_hook('authenticate', [$this, 'authenticate']);
        $this->add_hook('oauth_login', [$this, 'oauth_login']);
        $this->add_hook('login_after', [$this, 'login_after']);
        $this->add_hook('login_failed', [$this, 'login_failed']);
        $this->add_hook('logout_after', [$this, 'logout_after']);
        $this->add_hook('session_destroy', [$this, 'session_destroy']);
        $this->add_hook('unauthenticated', [$this, 'unauthenticated']);
    }

    /* ---------------------------------------------------------------- hooks */

    public function startup($args)
    {
        if ($args['task'] === 'login' && $args['action'] === self::ACTION) {
            $this->backchannel_logout();  // exits
        }
        $sso = isset($_SESSION['congvu_sso']) ? $_SESSION['congvu_sso'] : null;
        if ($args['task'] === 'logout' && is_array($sso)) {
            $this->leaving = $sso;
        }
        elseif (!empty($_SESSION['user_id']) && is_array($sso)) {
            if ($this->sso_session_ended($sso) || !$this->token_still_active($sso)) {
                $this->end_current_session();
            }
        }
        return $args;
    }

    /** The Roundcube login form never signs in: the password belongs to congvu only. */
    public function authenticate($args)
    {
        $args['abort'] = true;
        $args['valid'] = false;
        $args['error'] = 'congvu_sso: sign in through the province SSO';
        return $args;
    }

    /** Called inside the token exchange, with the (still present) id_token. */
    public function oauth_login($data)
    {
        $claims = [];
        if (!empty($data['id_token'])) {
            $parts = explode('.', $data['id_token']);
            if (count($parts) === 3) {
                $claims = json_decode(self::b64url_decode($parts[1]), true) ?: [];
            }
        }
        $this->pending = [
            'id_token' => isset($data['id_token']) ? $data['id_token'] : null,
            'sid' => isset($claims['sid']) ? (string) $claims['sid'] : null,
            'sub' => isset($claims['sub']) ? (string) $claims['sub'] : null,
            'checked' => time(),
            'pre_login_id' => session_id(),
        ];
        return $data;
    }

    /** The Roundcube session now exists (its id was regenerated): remember its sid. */
    public function login_after($args)
    {
        if ($this->pending !== null) {
            // Roundcube keeps the pre-login session row (regenerate_id(false)), holding the
            // user and the encrypted token: drop it, so a sign-out leaves nothing behind.
            $old = $this->pending['pre_login_id'];
            unset($this->pending['pre_login_id']);
            if ($old && $old !== session_id()) {
                $this->rc->session->destroy($old);
            }
            $_SESSION['congvu_sso'] = $this->pending;
            $db = $this->rc->get_dbh();
            $db->query(
                "INSERT INTO " . self::TABLE . " (sess_id, sid, sub, created, ended)"
                . " VALUES (?, ?, ?, ?, NULL)",
                session_id(), (string) $this->pending['sid'], (string) $this->pending['sub'],
                time()
            );
            $this->pending = null;
            $this->gc();
        }
        return $args;
    }

    public function login_failed($args)
    {
        $this->failed = true;
        return $args;
    }

    /** Roundcube's session is gone: end the SSO session too (RP-initiated logout). */
    public function logout_after($args)
    {
        $end = $this->rc->config->get('congvu_sso_end_session_uri');
        if (!$end) {
            return $args;
        }
        $query = [
            'client_id' => $this->rc->config->get('oauth_client_id'),
            'post_logout_redirect_uri' => $this->rc->config->get('congvu_sso_post_logout_redirect_uri'),
        ];
        if (is_array($this->leaving) && !empty($this->leaving['id_token'])) {
            $query['id_token_hint'] = $this->leaving['id_token'];
        }
        $delimiter = strpos($end, '?') === false ? '?' : '&';
        header('Location: ' . $end . $delimiter . http_build_query($query));
        exit;
    }

    public function session_destroy($args)
    {
        $id = session_id();
        if ($id) {
            $this->rc->get_dbh()->query(
                "DELETE FROM " . self::TABLE . " WHERE sess_id = ? AND ended IS NULL", $id);
        }
        return $args;
    }

    /** Never show the password form: go to the provider's sign-in instead. */
    public function unauthenticated($args)
    {
        if (
            !$this->failed
            && !$this->rc->output->ajax_call
            && !$this->rc->output->get_env('framed')
            && $this->rc->action !== 'oauth'  // the callback failed: show why, no loop
            && $this->rc->oauth->is_enabled()
        ) {
            $this->rc->oauth->login_redirect();  // exits
        }
        return $args;
    }

    /* ------------------------------------------------- back-channel logout */

    private function backchannel_logout()
    {
        header('Cache-Control: no-store');
        header('Pragma: no-cache');
        header('Content-Type: application/json');
        if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
            $this->reply(400, 'invalid_request', 'POST a logout_token');
        }
        $token = isset($_POST['logout_token']) && is_string($_POST['logout_token'])
            ? $_POST['logout_token'] : '';
        try {
            $claims = $this->verify_logout_token($token);
        }
        catch (Exception $e) {
            rcube::write_log('errors', 'congvu_sso: refused logout_token: ' . $e->getMessage());
            $this->reply(400, 'invalid_request', $e->getMessage());
        }
        $count = $this->end_sessions(
            isset($claims['sid']) ? (string) $claims['sid'] : null,
            isset($claims['sub']) ? (string) $claims['sub'] : null
        );
        rcube::write_log('userlogins', sprintf('congvu_sso: back-channel logout sid=%s sub=%s, %d session(s)',
            isset($claims['sid']) ? $claims['sid'] : '-', isset($claims['sub']) ? $claims['sub'] : '-', $count));
        $this->reply(200);
    }

    private function reply($code, $error = null, $description = null)
    {
        http_response_code($code);
        while (ob_get_level() > 0) {
            ob_end_clean();
        }
        if ($error !== null) {
            echo json_encode(['error' => $error, 'error_description' => $description]);
        }
        exit;
    }

    /**
     * Checks of Back-Channel Logout 1.0 section 2.6: signature (RS256, a key of the
     * provider's JWKS), iss, aud, iat (and exp when present), events, no nonce, sid or sub.
     * A replayed token is accepted: logging out twice is harmless, and the provider
     * retries the same token until it gets a 2xx.
     */
    public function verify_logout_token($token)
    {
        $parts = explode('.', (string) $token);
        if (count($parts) !== 3) {
            throw new RuntimeException('logout_token is not a signed JWT');
        }
        $header = json_decode(self::b64url_decode($parts[0]), true);
        $claims = json_decode(self::b64url_decode($parts[1]), true);
        $signature = self::b64url_decode($parts[2]);
        if (!is_array($header) || !is_array($claims) || $signature === '') {
            throw new RuntimeException('logout_token is not a signed JWT');
        }
        if (!isset($header['alg']) || $header['alg'] !== 'RS256') {
            throw new RuntimeException('unexpected alg');
        }
        $kid = isset($header['kid']) ? (string) $header['kid'] : null;
        $pem = $this->public_key($kid, false) ?: $this->public_key($kid, true);
        if (!$pem) {
            throw new RuntimeException('unknown signing key');
        }
        if (openssl_verify($parts[0] . '.' . $parts[1], $signature, $pem, OPENSSL_ALGO_SHA256) !== 1) {
            throw new RuntimeException('bad signature');
        }
        $now = time();
        $leeway = 60;
        if (!isset($claims['iss']) || $claims['iss'] !== $this->rc->config->get('congvu_sso_issuer')) {
            throw new RuntimeException('wrong iss');
        }
        $aud = isset($claims['aud']) ? (array) $claims['aud'] : [];
        if (!in_array($this->rc->config->get('oauth_client_id'), $aud, true)) {
            throw new RuntimeException('wrong aud');
        }
        $max_age = (int) $this->rc->config->get('congvu_sso_logout_token_max_age', 86400);
        if (!isset($claims['iat']) || !is_numeric($claims['iat'])
            || $claims['iat'] > $now + $leeway || $claims['iat'] < $now - $max_age) {
            throw new RuntimeException('iat missing or out of range');
        }
        if (isset($claims['exp']) && (!is_numeric($claims['exp']) || $claims['exp'] < $now - $leeway)) {
            throw new RuntimeException('expired');
        }
        if (!isset($claims['events']) || !is_array($claims['events'])
            || !array_key_exists(self::EVENT, $claims['events'])
            || !is_array($claims['events'][self::EVENT])) {
            throw new RuntimeException('missing back-channel logout event');
        }
        if (array_key_exists('nonce', $claims)) {
            throw new RuntimeException('a logout_token must not have a nonce');
        }
        if (empty($claims['sid']) && empty($claims['sub'])) {
            throw new RuntimeException('neither sid nor sub');
        }
        return $claims;
    }

    /** Destroy the Roundcube sessions of an SSO session (sid) or of a user (sub only). */
    private function end_sessions($sid, $sub)
    {
        $db = $this->rc->get_dbh();
        if ($sid !== null && $sid !== '') {
            $result = $db->query("SELECT sess_id FROM " . self::TABLE . " WHERE sid = ?", $sid);
        }
        else {
            $result = $db->query("SELECT sess_id FROM " . self::TABLE . " WHERE sub = ?", $sub);
        }
        $count = 0;
        while ($result && ($row = $db->fetch_assoc($result))) {
            if ($row['sess_id'] !== null && $row['sess_id'] !== '') {
                $this->rc->session->destroy($row['sess_id']);
                $count++;
            }
        }
        // Mark them ended (a request already running sees it on its next turn), and keep
        // a marker when no session was known yet (a logout racing the sign-in).
        if ($sid !== null && $sid !== '') {
            $db->query("UPDATE " . self::TABLE . " SET ended = ? WHERE sid = ?", time(), $sid);
            if ($count === 0) {
                $db->query("INSERT INTO " . self::TABLE . " (sess_id, sid, sub, created, ended)"
                    . " VALUES (NULL, ?, ?, ?, ?)", $sid, (string) $sub, time(), time());
            }
        }
        else {
            $db->query("UPDATE " . self::TABLE . " SET ended = ? WHERE sub = ?", time(), $sub);
        }
        return $count;
    }

    /* ------------------------------------------------------ session checks */

    private function sso_session_ended($sso)
    {
        if (empty($sso['sid'])) {
            return false;
        }
        $db = $this->rc->get_dbh();
        $result = $db->query("SELECT 1 AS ended FROM " . self::TABLE
            . " WHERE sid = ? AND ended IS NOT NULL LIMIT 1", $sso['sid']);
        return (bool) ($result && $db->fetch_assoc($result));
    }

    /** Is the access token still accepted by the provider? (At most once per interval.) */
    private function token_still_active($sso)
    {
        $interval = (int) $this->rc->config->get('congvu_sso_check_interval', 60);
        $uri = $this->rc->config->get('congvu_sso_userinfo_uri');
        if ($interval <= 0 || !$uri || time() - (int) $sso['checked'] < $interval) {
            return true;
        }
        $token = isset($_SESSION['oauth_token']) ? $_SESSION['oauth_token'] : null;
        if (!is_array($token) || (isset($token['expires']) && $token['expires'] < time())) {
            return true;  // expired: Roundcube refreshes it (or ends the session) itself
        }
        $_SESSION['congvu_sso']['checked'] = time();
        $authorization = $this->rc->decrypt($_SESSION['password']);
        $status = $this->http_status($uri, $authorization);
        return $status !== 401;  // unreachable provider: IMAP still checks the token
    }

    private function end_current_session()
    {
        $this->rc->kill_session();
        if ($this->rc->output->ajax_call) {
            $this->rc->output->command('session_error', $this->rc->url(['_err' => 'session']));
            $this->rc->output->send();
        }
        $this->rc->output->redirect(['_task' => 'mail'], 0, true);  // -> sign-in
    }

    /* --------------------------------------------------------------- helpers */

    private function http_status($uri, $authorization)
    {
        $context = stream_context_create(['http' => [
            'method' => 'GET',
            'header' => "Authorization: $authorization\r\nAccept: application/json\r\n",
            'timeout' => 5,
            'ignore_errors' => true,
        ]]);
        $body = @file_get_contents($uri, false, $context);
        if ($body === false || empty($http_response_header)) {
            return 0;
        }
        return preg_match('#^HTTP/\S+\s+(\d{3})#', $http_response_header[0], $m) ? (int) $m[1] : 0;
    }

    /** The PEM of the JWKS key `kid` (the only RSA key when there is no kid). */
    private function public_key($kid, $refresh)
    {
        $jwks = $this->jwks($refresh);
        $candidates = [];
        foreach (isset($jwks['keys']) ? (array) $jwks['keys'] : [] as $jwk) {
            if (!is_array($jwk) || !isset($jwk['kty'], $jwk['n'], $jwk['e']) || $jwk['kty'] !== 'RSA') {
                continue;
            }
            if (isset($jwk['use']) && $jwk['use'] !== 'sig') {
                continue;
            }
            if ($kid === null || (isset($jwk['kid']) && $jwk['kid'] === $kid)) {
                $candidates[] = $jwk;
            }
        }
        if (count($candidates) !== 1) {
            return null;
        }
        return self::rsa_pem(self::b64url_decode($candidates[0]['n']),
                             self::b64url_decode($candidates[0]['e']));
    }

    /** The provider's JWKS, cached for five minutes in Roundcube's temp folder. */
    private function jwks($refresh)
    {
        $cache = slashify($this->rc->config->get('temp_dir')) . 'congvu_sso_jwks.json';
        if (!$refresh && is_file($cache) && filemtime($cache) > time() - 300) {
            $data = json_decode((string) file_get_contents($cache), true);
            if (is_array($data)) {
                return $data;
            }
        }
        $context = stream_context_create(['http' => ['timeout' => 5]]);
        $body = @file_get_contents($this->rc->config->get('congvu_sso_jwks_uri'), false, $context);
        $data = $body === false ? null : json_decode($body, true);
        if (!is_array($data)) {
            return [];
        }
        @file_put_contents($cache, $body, LOCK_EX);
        return $data;
    }

    private function gc()
    {
        if (mt_rand(1, 50) === 1) {
            $this->rc->get_dbh()->query("DELETE FROM " . self::TABLE . " WHERE created < ?",
                time() - 7 * 86400);
        }
    }

    public static function b64url_decode($text)
    {
        $text = strtr((string) $text, '-_', '+/');
        $pad = strlen($text) % 4;
        if ($pad) {
            $text .= str_repeat('=', 4 - $pad);
        }
        $bytes = base64_decode($text, true);
        return $bytes === false ? '' : $bytes;
    }

    /** SubjectPublicKeyInfo (DER, then PEM) of an RSA key given by modulus and exponent. */
    public static function rsa_pem($n, $e)
    {
        $sequence = self::der(0x30, self::der_integer($n) . self::der_integer($e));
        $algorithm = "\x30\x0d\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00";
        $spki = self::der(0x30, $algorithm . self::der(0x03, "\x00" . $sequence));
        return "-----BEGIN PUBLIC KEY-----\n" . chunk_split(base64_encode($spki), 64, "\n")
            . "-----END PUBLIC KEY-----\n";
    }

    private static function der_integer($bytes)
    {
        $bytes = ltrim($bytes, "\x00");
        if ($bytes === '' || ord($bytes[0]) > 0x7f) {
            $bytes = "\x00" . $bytes;
        }
        return self::der(0x02, $bytes);
    }

    private static function der($tag, $content)
    {
        $length = strlen($content);
        if ($length < 0x80) {
            return chr($tag) . chr($length) . $content;
        }
        $octets = ltrim(pack('N', $length), "\x00");
        return chr($tag) . chr(0x80 | strlen($octets)) . $octets . $content;
    }
}
