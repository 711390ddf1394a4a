"""Domains that never make a match by themselves.

Two accounts sharing ``gmail.com`` share nothing: the domain came from a contact's personal
address. The same holds for placeholders people type to get past a required field
(``example.com``, ``none.com``), and for platforms where many unrelated companies have a page or a
shop: tldextract leaves private suffixes (``acme.myshopify.com``) out of the public suffix list on
purpose, so their registrable domain is the platform's. Accounts carrying only such a domain can
still match by name.

The lists hold *registrable* domains, exactly as ``normalise_domain`` writes them (so
``mail.yahoo.co.uk`` is covered by ``yahoo.co.uk``). A domain that many accounts of one list share
is treated the same way at run time (``MatchOptions.max_domain_accounts``).
"""

from __future__ import annotations

FREE_MAIL = frozenset({
    # Global providers
    "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
    "passport.com", "windowslive.com", "yahoo.com", "ymail.com", "rocketmail.com", "aol.com",
    "aim.com", "icloud.com", "me.com", "mac.com", "protonmail.com", "protonmail.ch", "proton.me",
    "pm.me", "tutanota.com", "tuta.io", "zoho.com", "zohomail.com", "mail.com", "email.com",
    "gmx.com", "gmx.net", "inbox.com", "fastmail.com", "fastmail.fm", "hushmail.com", "yandex.com",
    "hey.com", "duck.com", "mailfence.com", "runbox.com", "posteo.net", "mailbox.org",
    # Regional variants of the big ones
    "hotmail.co.uk", "hotmail.fr", "hotmail.de", "hotmail.it", "hotmail.es", "hotmail.nl",
    "live.co.uk", "live.fr", "live.de", "live.nl", "live.it", "outlook.fr", "outlook.de",
    "outlook.es", "outlook.it", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.es", "yahoo.it",
    "yahoo.co.jp", "yahoo.com.br", "yahoo.com.au", "yahoo.ca", "yahoo.in", "yahoo.com.mx",
    "yahoo.co.in", "googlemail.co.uk",
    # National providers and ISPs
    "gmx.de", "gmx.at", "gmx.ch", "web.de", "t-online.de", "freenet.de", "arcor.de", "posteo.de",
    "orange.fr", "wanadoo.fr", "free.fr", "sfr.fr", "laposte.net", "libero.it", "virgilio.it",
    "tiscali.it", "alice.it", "tin.it", "telefonica.net", "terra.com.br", "uol.com.br",
    "bol.com.br", "btinternet.com", "sky.com", "virginmedia.com", "blueyonder.co.uk",
    "talktalk.net", "ntlworld.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    "bellsouth.net", "cox.net", "charter.net", "earthlink.net", "optonline.net", "shaw.ca",
    "rogers.com", "sympatico.ca", "bigpond.com", "bigpond.net.au", "optusnet.com.au",
    "xtra.co.nz", "seznam.cz", "centrum.cz", "wp.pl", "o2.pl", "onet.pl", "interia.pl",
    "mail.ru", "yandex.ru", "rambler.ru", "list.ru", "bk.ru", "inbox.ru", "ukr.net",
    "qq.com", "163.com", "126.com", "sina.com", "sohu.com", "yeah.net", "naver.com",
    "hanmail.net", "daum.net", "rediffmail.com", "bluewin.ch", "hispeed.ch", "telenet.be",
    "skynet.be", "ziggo.nl", "kpnmail.nl", "planet.nl", "home.nl", "hetnet.nl", "online.no",
    "telia.com", "spray.se", "bredband.net", "sapo.pt", "netcabo.pt", "otenet.gr",
})

PLACEHOLDERS = frozenset({
    # RFC 2606 documentation domains and the stand-ins people type into a required field.
    "example.com", "example.org", "example.net", "example.edu", "test.com", "domain.com",
    "company.com", "website.com", "yourcompany.com", "yourdomain.com", "mycompany.com",
    "companyname.com", "none.com", "nowhere.com", "noemail.com", "nomail.com", "noreply.com",
    "no-reply.com", "na.com", "n-a.com", "null.com", "unknown.com", "invalid.com", "fake.com",
    "sample.com", "tbd.com", "xxx.com", "abc.com", "asdf.com", "test.de", "beispiel.de",
    "mailinator.com", "guerrillamail.com", "10minutemail.com", "trashmail.com", "tempmail.com",
    "yopmail.com", "sharklasers.com",
})

PLATFORMS = frozenset({
    # Shops, site builders, hosting and social profiles: many companies, one registrable domain.
    "myshopify.com", "wixsite.com", "wix.com", "squarespace.com", "weebly.com", "wordpress.com",
    "blogspot.com", "blogger.com", "tumblr.com", "godaddysites.com", "webflow.io", "carrd.co",
    "business.site", "google.com", "github.io", "gitlab.io", "netlify.app",
    "vercel.app", "herokuapp.com", "azurewebsites.net", "cloudfront.net", "amazonaws.com",
    "firebaseapp.com", "web.app", "pages.dev", "linkedin.com", "facebook.com", "fb.com",
    "instagram.com", "twitter.com", "x.com", "youtube.com", "medium.com", "substack.com",
    "yelp.com", "tripadvisor.com", "yellowpages.com", "angel.co", "crunchbase.com",
    "bit.ly", "linktr.ee", "sharepoint.com", "office.com", "dropbox.com", "notion.site",
})

NEVER_ALONE = FREE_MAIL | PLACEHOLDERS | PLATFORMS
