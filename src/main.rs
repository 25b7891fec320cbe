//! Starts the server; everything else lives in the library.

#[rocket::launch]
fn rocket() -> _ {
    reverse_ajax::rocket()
}
