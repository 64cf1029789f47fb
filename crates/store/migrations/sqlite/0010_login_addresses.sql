-- Addresses each user has signed in from successfully, for login throttling: failures from
-- elsewhere cannot lock a user out of an address the user is known at.
CREATE TABLE login_addresses (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    address   TEXT NOT NULL,
    last_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, address)
);
