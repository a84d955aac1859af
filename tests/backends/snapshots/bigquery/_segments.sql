WITH `t22` AS (
  SELECT
    `t6`.`customer_id`,
    MAX(`t6`.`occurred_at`) AS `last_cart`
  FROM (
    SELECT
      *
    FROM `web_events` AS `t2`
    WHERE
      `t2`.`event_type` = 'cart_add'
      AND `t2`.`customer_id` IS NOT NULL
      AND `t2`.`occurred_at` < DATETIME('2026-10-31T15:00:00')
      AND `t2`.`occurred_at` >= DATETIME('2026-10-28T15:00:00')
  ) AS `t6`
  GROUP BY
    1
), `t23` AS (
  SELECT
    `t7`.`customer_id`,
    MAX(`t7`.`occurred_at`) AS `last_cart`
  FROM (
    SELECT
      *
    FROM `web_events` AS `t2`
    WHERE
      `t2`.`event_type` = 'cart_add'
      AND `t2`.`customer_id` IS NOT NULL
      AND `t2`.`occurred_at` < DATETIME('2026-10-31T15:00:00')
      AND `t2`.`occurred_at` >= DATETIME('2026-10-01T15:00:00')
  ) AS `t7`
  GROUP BY
    1
)
SELECT
  `t0`.`customer_id`,
  `t0`.`customer_id` IN (
    SELECT
      `t50`.`customer_id`
    FROM (
      SELECT
        `t26`.`customer_id`,
        `t26`.`last_cart`,
        `t43`.`customer_id` AS `customer_id_right`,
        `t43`.`last_order`
      FROM `t22` AS `t26`
      LEFT OUTER JOIN (
        SELECT
          `t36`.`customer_id`,
          MAX(`t36`.`ordered_at`) AS `last_order`
        FROM (
          SELECT
            *
          FROM `orders` AS `t3`
          WHERE
            `t3`.`customer_id` IS NOT NULL
            AND `t3`.`status` <> 'cancelled'
            AND `t3`.`customer_id` IN (
              SELECT
                `t24`.`customer_id`
              FROM `t22` AS `t24`
            )
        ) AS `t36`
        GROUP BY
          1
      ) AS `t43`
        ON `t26`.`customer_id` = `t43`.`customer_id`
    ) AS `t50`
    WHERE
      (
        `t50`.`last_order` IS NULL
      ) OR (
        `t50`.`last_order` < `t50`.`last_cart`
      )
  ) AS `cart-abandoners`,
  COALESCE(`t0`.`frequency` >= 2, FALSE)
  AND COALESCE(`t0`.`lifecycle_stage` = 'dormant', FALSE)
  AND COALESCE(`t0`.`cpm_status` = 'active', FALSE) AS `churn-risk`,
  COALESCE(`t0`.`m_score` >= 4, FALSE)
  AND COALESCE(`t0`.`recency_days` > 180, FALSE) AS `dormant-top`,
  COALESCE(`t0`.`persona` = 'gift_giver', FALSE) AS `gift-givers`,
  (
    CAST(FLOOR(
      ieee_divide(
        (
          MOD((
            `t0`.`customer_hash` * 1019205
          ) + 99914, 1048576)
        ) * 100,
        1048576
      )
    ) AS INT64) >= 0
  )
  AND (
    CAST(FLOOR(
      ieee_divide(
        (
          MOD((
            `t0`.`customer_hash` * 1019205
          ) + 99914, 1048576)
        ) * 100,
        1048576
      )
    ) AS INT64) < 10
  ) AS `global-control`,
  COALESCE(`t0`.`frequency` BETWEEN 2 AND 4, FALSE)
  AND COALESCE(`t0`.`recency_days` <= 90, FALSE) AS `growth`,
  COALESCE(`t0`.`f_score` >= 4, FALSE)
  AND COALESCE(`t0`.`m_score` >= 4, FALSE)
  AND COALESCE(`t0`.`recency_days` <= 180, FALSE) AS `high-value`,
  COALESCE(`t0`.`line_opt_in` = TRUE, FALSE)
  AND COALESCE(`t0`.`has_line` = TRUE, FALSE) AS `line-reachable`,
  COALESCE(`t0`.`frequency` >= 1, FALSE)
  AND NOT (
    `t0`.`customer_id` IN (
      SELECT
        `t1`.`customer_id`
      FROM `subscriptions` AS `t1`
      WHERE
        DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
    )
  ) AS `never-subscribed`,
  COALESCE(`t0`.`frequency` = 1, FALSE) AS `one-time-buyers`,
  COALESCE(`t0`.`orders_365d` >= 6, FALSE)
  AND `t0`.`customer_id` IN (
    SELECT
      `t1`.`customer_id`
    FROM `subscriptions` AS `t1`
    WHERE
      DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
  )
  AND COALESCE(`t0`.`gift_share` > 0, FALSE)
  AND COALESCE(`t0`.`tenure_days` >= 365, FALSE) AS `platinum`,
  COALESCE(`t0`.`lifecycle_stage` = 'registered', FALSE) AS `registered-no-purchase`,
  `t0`.`customer_id` IN (
    SELECT
      `t52`.`customer_id`
    FROM (
      SELECT
        `t48`.`customer_id`,
        COUNT(`t48`.`order_id`) AS `n`
      FROM (
        SELECT DISTINCT
          *
        FROM (
          SELECT
            `t16`.`customer_id`,
            `t38`.`order_id`
          FROM (
            SELECT
              `t29`.`order_id`
            FROM (
              SELECT
                *
              FROM `order_items` AS `t4`
              WHERE
                `t4`.`product_id` IN (
                  SELECT
                    `t5`.`product_id`
                  FROM `products` AS `t5`
                  WHERE
                    `t5`.`category` IS NOT NULL AND `t5`.`category` = '肉'
                )
                OR (
                  (
                    `t4`.`category` = '肉'
                  )
                  AND NOT (
                    `t4`.`product_id` IN (
                      SELECT
                        `t5`.`product_id`
                      FROM `products` AS `t5`
                      WHERE
                        `t5`.`category` IS NOT NULL
                    )
                  )
                )
            ) AS `t29`
          ) AS `t38`
          INNER JOIN (
            SELECT
              `t3`.`order_id`,
              `t3`.`customer_id`
            FROM `orders` AS `t3`
            WHERE
              `t3`.`status` = 'completed'
              AND `t3`.`customer_id` IS NOT NULL
              AND `t3`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
              AND `t3`.`ordered_at` >= DATETIME('2026-05-04T15:00:00')
          ) AS `t16`
            ON `t38`.`order_id` = `t16`.`order_id`
        ) AS `t45`
      ) AS `t48`
      GROUP BY
        1
    ) AS `t52`
    WHERE
      `t52`.`n` >= 1
  ) AS `bought-meat-180d`,
  `t0`.`customer_id` IN (
    SELECT
      `t40`.`customer_id`
    FROM (
      SELECT
        `t33`.`customer_id`,
        COUNT(`t33`.`order_id`) AS `n`
      FROM (
        SELECT DISTINCT
          *
        FROM (
          SELECT
            `t17`.`customer_id`,
            `t19`.`order_id`
          FROM (
            SELECT
              `t4`.`order_id`
            FROM `order_items` AS `t4`
            WHERE
              `t4`.`product_id` = 'P00215'
          ) AS `t19`
          INNER JOIN (
            SELECT
              `t3`.`order_id`,
              `t3`.`customer_id`
            FROM `orders` AS `t3`
            WHERE
              `t3`.`status` = 'completed'
              AND `t3`.`customer_id` IS NOT NULL
              AND `t3`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
          ) AS `t17`
            ON `t19`.`order_id` = `t17`.`order_id`
        ) AS `t28`
      ) AS `t33`
      GROUP BY
        1
    ) AS `t40`
    WHERE
      `t40`.`n` >= 1
  ) AS `bought-product-twice`,
  `t0`.`customer_id` IN (
    SELECT
      `t2`.`customer_id`
    FROM `web_events` AS `t2`
    WHERE
      `t2`.`customer_id` IS NOT NULL
      AND `t2`.`occurred_at` < DATETIME('2026-10-31T15:00:00')
      AND `t2`.`occurred_at` >= DATETIME('2026-09-01T15:00:00')
      AND `t2`.`event_type` IN ('product_view', 'category_view')
      AND `t2`.`category` = 'スイーツ'
  )
  AND NOT (
    `t0`.`customer_id` IN (
      SELECT
        `t53`.`customer_id`
      FROM (
        SELECT
          `t49`.`customer_id`,
          COUNT(`t49`.`order_id`) AS `n`
        FROM (
          SELECT DISTINCT
            *
          FROM (
            SELECT
              `t18`.`customer_id`,
              `t39`.`order_id`
            FROM (
              SELECT
                `t30`.`order_id`
              FROM (
                SELECT
                  *
                FROM `order_items` AS `t4`
                WHERE
                  `t4`.`product_id` IN (
                    SELECT
                      `t5`.`product_id`
                    FROM `products` AS `t5`
                    WHERE
                      `t5`.`category` IS NOT NULL AND `t5`.`category` = 'スイーツ'
                  )
                  OR (
                    (
                      `t4`.`category` = 'スイーツ'
                    )
                    AND NOT (
                      `t4`.`product_id` IN (
                        SELECT
                          `t5`.`product_id`
                        FROM `products` AS `t5`
                        WHERE
                          `t5`.`category` IS NOT NULL
                      )
                    )
                  )
              ) AS `t30`
            ) AS `t39`
            INNER JOIN (
              SELECT
                `t3`.`order_id`,
                `t3`.`customer_id`
              FROM `orders` AS `t3`
              WHERE
                `t3`.`status` = 'completed'
                AND `t3`.`customer_id` IS NOT NULL
                AND `t3`.`ordered_at` < DATETIME('2026-10-31T15:00:00')
                AND `t3`.`ordered_at` >= DATETIME('2026-09-01T15:00:00')
            ) AS `t18`
              ON `t39`.`order_id` = `t18`.`order_id`
          ) AS `t46`
        ) AS `t49`
        GROUP BY
          1
      ) AS `t53`
    )
  ) AS `viewed-sweets-not-bought`,
  `t0`.`customer_id` IN (
    SELECT
      `t51`.`customer_id`
    FROM (
      SELECT
        `t27`.`customer_id`,
        `t27`.`last_cart`,
        `t44`.`customer_id` AS `customer_id_right`,
        `t44`.`last_order`
      FROM `t23` AS `t27`
      LEFT OUTER JOIN (
        SELECT
          `t37`.`customer_id`,
          MAX(`t37`.`ordered_at`) AS `last_order`
        FROM (
          SELECT
            *
          FROM `orders` AS `t3`
          WHERE
            `t3`.`customer_id` IS NOT NULL
            AND `t3`.`status` <> 'cancelled'
            AND `t3`.`customer_id` IN (
              SELECT
                `t25`.`customer_id`
              FROM `t23` AS `t25`
            )
        ) AS `t37`
        GROUP BY
          1
      ) AS `t44`
        ON `t27`.`customer_id` = `t44`.`customer_id`
    ) AS `t51`
    WHERE
      (
        `t51`.`last_order` IS NULL
      ) OR (
        `t51`.`last_order` < `t51`.`last_cart`
      )
  ) AS `cart-no-order`,
  `t0`.`customer_id` IN (
    SELECT
      `t1`.`customer_id`
    FROM `subscriptions` AS `t1`
    WHERE
      DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
      AND (
        (
          `t1`.`cancelled_at` IS NULL
        )
        OR (
          DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) > DATE(2026, 10, 31)
        )
      )
  ) AS `subscription-active`,
  `t0`.`customer_id` IN (
    SELECT
      `t1`.`customer_id`
    FROM `subscriptions` AS `t1`
    WHERE
      DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
  )
  AND NOT (
    `t0`.`customer_id` IN (
      SELECT
        `t1`.`customer_id`
      FROM `subscriptions` AS `t1`
      WHERE
        DATE(TIMESTAMP_ADD(`t1`.`started_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
        AND (
          (
            `t1`.`cancelled_at` IS NULL
          )
          OR (
            DATE(TIMESTAMP_ADD(`t1`.`cancelled_at`, INTERVAL '9' HOUR)) > DATE(2026, 10, 31)
          )
        )
    )
  ) AS `subscription-cancelled`,
  (
    CAST(FLOOR(
      ieee_divide(
        (
          MOD((
            `t0`.`customer_hash` * 1022521
          ) + 553179, 1048576)
        ) * 100,
        1048576
      )
    ) AS INT64) >= 0
  )
  AND (
    CAST(FLOOR(
      ieee_divide(
        (
          MOD((
            `t0`.`customer_hash` * 1022521
          ) + 553179, 1048576)
        ) * 100,
        1048576
      )
    ) AS INT64) < 30
  ) AS `bucket-a`,
  NOT (
    COALESCE(COALESCE(`t0`.`persona` = 'gift_giver', FALSE), FALSE)
  ) AS `not-gift-giver`,
  COALESCE(
    (
      DATE(TIMESTAMP_ADD(`t0`.`last_access_at`, INTERVAL '9' HOUR)) >= DATE(2026, 10, 17)
    )
    AND (
      DATE(TIMESTAMP_ADD(`t0`.`last_access_at`, INTERVAL '9' HOUR)) <= DATE(2026, 10, 31)
    ),
    FALSE
  ) AS `recent-access`,
  COALESCE(`t0`.`m_score` >= 4, FALSE)
  OR COALESCE(`t0`.`lifecycle_stage` IN ('loyal'), FALSE) AS `loyal-or-high-m`,
  COALESCE(`t0`.`f_score` >= 4, FALSE)
  AND COALESCE(`t0`.`m_score` >= 4, FALSE)
  AND COALESCE(`t0`.`recency_days` <= 180, FALSE)
  AND COALESCE(`t0`.`gender` = 'female', FALSE) AS `in-high-value-and-female`,
  COALESCE(`t0`.`registered_on` BETWEEN DATE(2025, 12, 1) AND DATE(2026, 3, 31), FALSE) AS `registered-between`
FROM `customer_features` AS `t0`
