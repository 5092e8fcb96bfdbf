# Everyday commands; each is a thin wrapper (the scripts work without just).

setup:
    bash ./scripts/setup.sh

demo:
    bash ./scripts/demo.sh

test:
    bash ./scripts/test.sh

# Review and accept changed snapshots.
bless:
    cargo insta review

lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings
