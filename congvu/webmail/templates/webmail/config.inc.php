<?php
// Rendered by `congvu webmail up` (templates in congvu/webmail/templates); do not edit:
// the next `webmail up` writes it again. Roundcube reads it through ROUNDCUBE_CONFIG_DIR.
$config = [];

// Roundcube's own database: preferences, caches, sessions, the congvu_sso table.
$config['db_dsnw'] = {{ q.db_dsn }};

// The mail plane (`congvu mail up`): IMAP and submission with STARTTLS. The access token
// from congvu's SSO opens the mailbox (XOAUTH2; Dovecot asks congvu's introspection).
$config['imap_host'] = {{ q.imap_host }};
$config['smtp_host'] = {{ q.smtp_host }};
$config['smtp_user'] = '%u';
$config['smtp_pass'] = '%p';
$config['imap_auth_type'] = 'XOAUTH2';
$config['smtp_auth_type'] = 'XOAUTH2';
{% if not verify_imap %}// Loopback only: the mail plane's self-signed certificate is not checked.
$config['imap_conn_options'] = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false, 'allow_self_signed' => true]];
{% endif %}{% if not verify_smtp %}$config['smtp_conn_options'] = ['ssl' => ['verify_peer' => false, 'verify_peer_name' => false, 'allow_self_signed' => true]];
{% endif %}$config['username_domain'] = {{ q.username_domain }};
$config['login_lc'] = 2;

// Signing in: only through congvu's OpenID Connect provider (the congvu_sso plugin
// switches the password form off and adds single sign-out both ways).
$config['oauth_provider'] = 'generic';
$config['oauth_provider_name'] = 'congvu';
$config['oauth_client_id'] = {{ q.client_id }};
$config['oauth_client_secret'] = {{ q.client_secret }};
$config['oauth_auth_uri'] = {{ q.auth_uri }};
$config['oauth_token_uri'] = {{ q.token_uri }};
$config['oauth_identity_uri'] = {{ q.identity_uri }};
$config['oauth_identity_fields'] = ['email'];
$config['oauth_scope'] = 'openid profile email';
$config['oauth_verify_peer'] = {% if verify_oauth %}true{% else %}false{% endif %};
$config['oauth_login_redirect'] = true;

$config['plugins'] = ['congvu_sso', 'congvu_eoffice'];
$config['congvu_sso_issuer'] = {{ q.issuer }};
$config['congvu_sso_jwks_uri'] = {{ q.jwks_uri }};
$config['congvu_sso_end_session_uri'] = {{ q.end_session_uri }};
$config['congvu_sso_post_logout_redirect_uri'] = {{ q.post_logout_uri }};
$config['congvu_sso_userinfo_uri'] = {{ q.identity_uri }};
$config['congvu_sso_check_interval'] = 60;
$config['congvu_sso_logout_token_max_age'] = 86400;

// The eOffice button "Chuyển vào văn bản đến" (congvu_eoffice plugin): the open message
// is posted to congvu with the user's own access token (no other secret).
$config['congvu_eoffice_url'] = {{ q.eoffice_url }};
$config['congvu_eoffice_max_bytes'] = {{ eoffice_max_bytes }};

// Sessions (one cookie name per instance: several may share a host name).
$config['des_key'] = {{ q.des_key }};
$config['session_lifetime'] = 30;
$config['session_name'] = 'congvu_webmail_{{ options.port }}';
$config['session_auth_name'] = 'congvu_webmail_auth_{{ options.port }}';
$config['session_samesite'] = 'Lax';
$config['use_https'] = {% if options.url|slice:":8" == "https://" %}true{% else %}false{% endif %};
$config['login_autocomplete'] = 0;
$config['enable_installer'] = false;

// Files in $CONGVU_HOME/webmail.
$config['log_driver'] = 'file';
$config['log_dir'] = {{ q.log_dir }};
$config['temp_dir'] = {{ q.temp_dir }};

$config['product_name'] = {{ q.product_name }};
$config['support_url'] = '';
$config['language'] = 'vi_VN';
$config['skin'] = 'elastic';
$config['mime_types'] = '/etc/mime.types';
