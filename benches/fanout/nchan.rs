//! Nchan, the peer we compare against: whether it is installed, and the nginx configuration
//! that serves one publisher location, one subscriber location and a readiness page.

use std::path::Path;

pub const NGINX: &str = "/usr/sbin/nginx";
pub const MODULE: &str = "/usr/lib/nginx/modules/ngx_nchan_module.so";

/// True when both nginx and the Nchan module are on this machine.
pub fn installed() -> bool {
    Path::new(NGINX).is_file() && Path::new(MODULE).is_file()
}

/// The whole nginx.conf for one run, with every file nginx writes inside `dir`.
///
/// Changes from the plain brief: `keepalive_requests` is raised so that a long-poll
/// subscriber may keep one connection for more than nginx's default 1000 requests.
pub fn config(dir: &Path, port: u16) -> String {
    let d = dir.display();
    format!(
        "load_module {MODULE};
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 20000;
error_log {d}/error.log warn;
pid {d}/nginx.pid;
events {{
    worker_connections 20000;
}}
http {{
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /pub {{
            nchan_publisher;
            nchan_channel_id $arg_id;
            nchan_message_buffer_length 10000;
            nchan_message_timeout 10m;
        }}
        location = /sub {{
            nchan_subscriber;
            nchan_channel_id $arg_id;
            nchan_subscriber_first_message newest;
        }}
        location = / {{
            return 200 \"ok\";
        }}
    }}
}}
"
    )
}
