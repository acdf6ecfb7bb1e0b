"""How one identifier is matched, whatever file or command line it comes from: the same rules as the vectorised
expressions of `data.ingest.values`, for single values (JSON profiles, catalog references, ids typed by a user)."""

from __future__ import annotations


def product_id_key(product_id: str) -> str:
    """The key a product id is matched by: without surrounding white space, in upper case (`p002 ` = `P002`)."""
    return product_id.strip().upper()


def customer_id_key(customer_id: str) -> str:
    """A customer id as the data means it: an email-like id (one with an `@`) in lower case, since
    `Ben@Example.com` and `ben@example.com` are one address; any other id as written."""
    return customer_id.lower() if "@" in customer_id else customer_id


def category_key(category: str) -> str:
    """A category as the routine matches it: without surrounding white space, in lower case (`Toner` = `toner`)."""
    return category.strip().lower()
